// The tokenizer paths of the newer model families, against llama.cpp on vocabulary GGUFs shaped like
// theirs: Qwen3 (byte-level BPE, tokenizer.ggml.pre = qwen2, ChatML and <think> tokens), Phi-3
// (Llama's SentencePiece with Phi-3's chat tokens) and a Gemma-style SentencePiece (no space prefix,
// <start_of_turn>/<end_of_turn>). Each family's own chat template renders the prompt.
import { readFileSync } from "node:fs";
import type { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufMetadata } from "../formats/gguf.js";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir, type TempDir } from "../test-support/temp-files.js";
import { encodeChat, renderChat, type ChatMessage } from "./chat-template.js";
import { tokenizerCorpus } from "./testing/corpus.js";
import { tokenizerFromGgufFile } from "./testing/fixtures.js";
import { compareTokenization, loadLlamaCppVocab } from "./testing/llama-cpp.js";
import { writeVocabGguf } from "./testing/synthetic-vocab.js";
import type { TextTokenizer } from "./text-tokenizer.js";

const fixtures = JSON.parse(
  readFileSync(new URL("./chat-template.fixtures.json", import.meta.url), "utf8"),
) as {
  messages: ChatMessage[];
  templates: Record<string, string>;
};
const corpus = tokenizerCorpus().filter((t) => !t.includes("\uFEFF"));
const CONTROL = 3;
const USER_DEFINED = 4;

let tmp: TempDir;
beforeAll(() => {
  tmp = makeTempDir("exitlane-families-");
});
afterAll(() => tmp?.cleanup());

async function pair(path: string): Promise<[TextTokenizer, LlamaModel]> {
  return Promise.all([tokenizerFromGgufFile(path), loadLlamaCppVocab(path)]);
}

describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-gpt-2.gguf"))(
  "Qwen3: byte-level BPE, pre qwen2",
  () => {
    it("takes the BPE path with Qwen2's splits; ChatML and <think> prompts give llama.cpp's ids", async () => {
      const base = await readGgufMetadata(vocabOnly.gpt2);
      // Qwen3's tokenizer.json: <|im_start|>/<|im_end|> special, <think>/</think> ordinary added tokens.
      const { path, ids } = writeVocabGguf(
        tmp.dir,
        "qwen3.gguf",
        base,
        [
          { text: "<|im_start|>", type: CONTROL },
          { text: "<|im_end|>", type: CONTROL },
          { text: "<think>", type: USER_DEFINED },
          { text: "</think>", type: USER_DEFINED },
        ],
        (ids) => ({
          "tokenizer.ggml.pre": "qwen2",
          "tokenizer.ggml.eos_token_id": ids["<|im_end|>"],
          "tokenizer.ggml.add_bos_token": false,
          "tokenizer.chat_template": fixtures.templates.qwen3,
        }),
      );
      const [ours, ref] = await pair(path);
      expect(ours.meta.origin).toBe("gguf-bpe");
      expect(ours.addBos).toBe(false);
      // Qwen2's pre-tokenizer splits digits one by one (GPT-2's keeps runs).
      expect(ours.encode("2025").length).toBe(4);
      expect(
        compareTokenization(
          corpus,
          (t) => ours.encode(t),
          (t) => ref.tokenize(t),
        ),
      ).toEqual([]);
      const thinking = [
        ...fixtures.messages.slice(0, 2),
        { role: "assistant", content: "<think>\nThey greet me.\n</think>\n\nHello!" },
        fixtures.messages[3],
      ];
      for (const enable_thinking of [true, false]) {
        const prompt = renderChat(fixtures.templates.qwen3, thinking, { enable_thinking });
        const encoded = encodeChat(ours, thinking, { enable_thinking });
        expect(encoded).toEqual([...ref.tokenize(prompt, true)]);
        expect(encoded.includes(ids["<think>"])).toBe(!enable_thinking);
      }
      // A user typing <think> gets the token in llama.cpp too: user-defined tokens are not control tokens.
      expect(ours.encode("a <think> b")).toEqual([...ref.tokenize("a <think> b", false)]);
      expect(ours.isEndOfGeneration(ids["<|im_end|>"])).toBe(true);
    });
  },
);

describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf"))(
  "Phi-3 and Gemma: SentencePiece",
  () => {
    it("Phi-3 takes the SentencePiece path; its chat prompt gives llama.cpp's ids; <|end|> ends generation", async () => {
      const base = await readGgufMetadata(vocabOnly.llamaSpm);
      const phi3 = [
        "<|endoftext|>",
        "<|assistant|>",
        "<|placeholder1|>",
        "<|placeholder2|>",
        "<|placeholder3|>",
      ];
      phi3.push(
        "<|placeholder4|>",
        "<|system|>",
        "<|end|>",
        "<|placeholder5|>",
        "<|placeholder6|>",
        "<|user|>",
      );
      const { path, ids } = writeVocabGguf(
        tmp.dir,
        "phi3.gguf",
        base,
        phi3.map((text) => ({ text, type: CONTROL })),
        (ids) => ({
          // llama.cpp gives Phi-3's special tokens rstrip when the model's name says Phi-3.
          "general.name": "Phi-3-mini-4k-instruct",
          "tokenizer.ggml.eos_token_id": ids["<|endoftext|>"],
          "tokenizer.ggml.eot_token_id": ids["<|end|>"],
          "tokenizer.ggml.add_bos_token": false,
          "tokenizer.chat_template": fixtures.templates.phi3,
        }),
      );
      const [ours, ref] = await pair(path);
      expect(ours.meta.origin).toBe("gguf-spm");
      expect(ids["<|user|>"]).toBe(32010);
      const prompt = renderChat(fixtures.templates.phi3, fixtures.messages, { eos_token: "<|endoftext|>" });
      expect(encodeChat(ours, fixtures.messages)).toEqual([...ref.tokenize(prompt, true)]);
      expect(ours.isEndOfGeneration(ids["<|end|>"])).toBe(true);
      expect(ours.isEndOfGeneration(ids["<|endoftext|>"])).toBe(true);

      // Under another name llama.cpp keeps the newlines after the tags, and so do we.
      const renamed = writeVocabGguf(tmp.dir, "phi3-renamed.gguf", await readGgufMetadata(path), [], () => ({
        "general.name": "Phi 3 Mini",
      }));
      const [ours2, ref2] = await pair(renamed.path);
      const plain = [...ref2.tokenize(prompt, true)];
      expect(plain.length).toBeGreaterThan(ref.tokenize(prompt, true).length);
      expect(encodeChat(ours2, fixtures.messages)).toEqual(plain);
    });

    it("Gemma-style SentencePiece (add_space_prefix false): text and chat prompts give llama.cpp's ids", async () => {
      const base = await readGgufMetadata(vocabOnly.llamaSpm);
      const { path, ids } = writeVocabGguf(
        tmp.dir,
        "gemma.gguf",
        base,
        [
          { text: "<start_of_turn>", type: CONTROL },
          { text: "<end_of_turn>", type: CONTROL },
        ],
        (ids) => ({
          "general.name": "gemma-3-style",
          "tokenizer.ggml.add_space_prefix": false,
          "tokenizer.ggml.eot_token_id": ids["<end_of_turn>"],
          "tokenizer.chat_template": fixtures.templates.gemma3,
        }),
      );
      const [ours, ref] = await pair(path);
      expect(ours.meta.origin).toBe("gguf-spm");
      expect(ours.encode("Hello", { addBos: false })).toEqual([...ref.tokenize("Hello")]);
      expect(ours.encode("Hello", { addBos: false })).not.toEqual(
        (await tokenizerFromGgufFile(vocabOnly.llamaSpm)).encode("Hello", { addBos: false }),
      );
      expect(
        compareTokenization(
          corpus,
          (t) => ours.encode(t, { addBos: false }),
          (t) => ref.tokenize(t),
        ),
      ).toEqual([]);
      const prompt = renderChat(fixtures.templates.gemma3, fixtures.messages, { bos_token: "<s>" });
      const encoded = encodeChat(ours, fixtures.messages);
      expect(encoded).toEqual([...ref.tokenize(prompt, true)]);
      expect(encoded.filter((id) => id === 1)).toHaveLength(1); // the template's BOS only
      expect(ours.isEndOfGeneration(ids["<end_of_turn>"])).toBe(true);
    });
  },
);
