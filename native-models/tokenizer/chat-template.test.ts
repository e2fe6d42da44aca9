import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufMetadata } from "../formats/gguf.js";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir, type TempDir } from "../test-support/temp-files.js";
import { buildTokenizerJson } from "./build.js";
import {
  ChatTemplateError,
  encodeChat,
  FALLBACK_CHAT_TEMPLATE,
  renderChat,
  type ChatMessage,
} from "./chat-template.js";
import { tokenizerFromGgufFile } from "./testing/fixtures.js";
import { loadLlamaCppVocab } from "./testing/llama-cpp.js";
import { writeVocabGguf } from "./testing/synthetic-vocab.js";
import { TextTokenizer } from "./text-tokenizer.js";

// Templates as the models ship them in tokenizer_config.json (JSON escapes resolved).

const LLAMA2_CHAT =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

const LLAMA3_INSTRUCT =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

const QWEN2_CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const MISTRAL_INSTRUCT =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";

const system: ChatMessage = { role: "system", content: "You are helpful." };
const turns: ChatMessage[] = [
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
  { role: "user", content: "How are you?" },
];

describe("renderChat", () => {
  it("renders the Llama-2 chat template", () => {
    const out = renderChat(LLAMA2_CHAT, [system, ...turns], { bos_token: "<s>", eos_token: "</s>" });
    expect(out).toBe(
      "<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] How are you? [/INST]",
    );
  });

  it("renders the Llama-3 instruct template with the generation prompt", () => {
    const out = renderChat(LLAMA3_INSTRUCT, [system, turns[0]], {
      bos_token: "<|begin_of_text|>",
      eos_token: "<|eot_id|>",
    });
    expect(out).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("renders Qwen2's ChatML template, adding its default system prompt", () => {
    expect(renderChat(QWEN2_CHATML, [turns[0]])).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    );
    expect(renderChat(QWEN2_CHATML, [turns[0]], { add_generation_prompt: false })).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
    );
  });

  it("renders the Mistral instruct template", () => {
    const out = renderChat(MISTRAL_INSTRUCT, turns, { bos_token: "<s>", eos_token: "</s>" });
    expect(out).toBe("<s>[INST] Hi [/INST]Hello!</s> [INST] How are you? [/INST]");
  });

  it("turns raise_exception into a ChatTemplateError", () => {
    const bad = [turns[0], turns[0]];
    expect(() => renderChat(MISTRAL_INSTRUCT, bad)).toThrow(ChatTemplateError);
    expect(() => renderChat(MISTRAL_INSTRUCT, bad)).toThrow(/alternate/);
    expect(() => renderChat("{% if %}", turns)).toThrow(ChatTemplateError);
  });

  it("falls back to plain User:/Assistant: turns for models without a template", () => {
    expect(renderChat(FALLBACK_CHAT_TEMPLATE, [system, ...turns])).toBe(
      "You are helpful.\n\nUser: Hi\nAssistant: Hello!\nUser: How are you?\nAssistant:",
    );
  });
});

describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf"))(
  "encodeChat on the Llama SentencePiece vocabulary",
  () => {
    it("Llama-2 prompt: one BOS, special tokens parsed, ids as llama.cpp", async () => {
      const metadata = await readGgufMetadata(vocabOnly.llamaSpm);
      metadata.set("tokenizer.chat_template", LLAMA2_CHAT);
      const tok = TextTokenizer.fromBuilt(buildTokenizerJson({ kind: "gguf", metadata }));
      const ref = await loadLlamaCppVocab(vocabOnly.llamaSpm);
      const ids = encodeChat(tok, [system, ...turns]);
      const prompt = renderChat(LLAMA2_CHAT, [system, ...turns], { bos_token: "<s>", eos_token: "</s>" });
      expect(ids).toEqual([...ref.tokenize(prompt, true)]);
      expect(ids.filter((id) => id === 1)).toHaveLength(2); // one per user turn, as the template writes
      expect(ids[0]).toBe(1);
      expect(ids).toContain(2);
    });

    it("Mistral prompt and the fallback prompt get exactly one leading BOS", async () => {
      const tok = await tokenizerFromGgufFile(vocabOnly.llamaSpm);
      const ref = await loadLlamaCppVocab(vocabOnly.llamaSpm);
      expect(tok.chatTemplate).toBeUndefined();
      const fallback = encodeChat(tok, turns.slice(0, 1));
      expect(fallback).toEqual([1, ...ref.tokenize("User: Hi\nAssistant:")]);
      const metadata = await readGgufMetadata(vocabOnly.llamaSpm);
      metadata.set("tokenizer.chat_template", MISTRAL_INSTRUCT);
      const mistral = TextTokenizer.fromBuilt(buildTokenizerJson({ kind: "gguf", metadata }));
      const ids = encodeChat(mistral, turns);
      expect(ids.slice(0, 2)).not.toEqual([1, 1]);
      expect(ids).toEqual([
        ...ref.tokenize(renderChat(MISTRAL_INSTRUCT, turns, { bos_token: "<s>", eos_token: "</s>" }), true),
      ]);
    });
  },
);

// Special tokens the fixtures lack: add them to the GPT-2 vocabulary in a temporary GGUF that llama.cpp loads too.
describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-gpt-2.gguf"))(
  "encodeChat with ChatML and Llama-3 special tokens",
  () => {
    let tmp: TempDir;
    let base: Map<string, unknown>;
    beforeAll(async () => {
      tmp = makeTempDir("exitlane-tokenizer-");
      base = await readGgufMetadata(vocabOnly.gpt2);
    });
    afterAll(() => tmp?.cleanup());

    it("Qwen2 ChatML: <|im_start|>/<|im_end|> are single tokens, <|im_end|> ends generation, ids as llama.cpp", async () => {
      const { path, ids } = writeVocabGguf(
        tmp.dir,
        "chatml.gguf",
        base,
        [
          { text: "<|im_start|>", type: 3 },
          { text: "<|im_end|>", type: 3 },
        ],
        (ids) => ({
          "tokenizer.ggml.pre": "qwen2",
          "tokenizer.ggml.eos_token_id": ids["<|im_end|>"],
          "tokenizer.ggml.add_bos_token": false,
          "tokenizer.chat_template": QWEN2_CHATML,
        }),
      );
      const tok = await tokenizerFromGgufFile(path);
      const ref = await loadLlamaCppVocab(path);
      expect(tok.chatTemplate).toBe(QWEN2_CHATML);
      const prompt = renderChat(QWEN2_CHATML, turns);
      const encoded = encodeChat(tok, turns);
      expect(encoded).toEqual([...ref.tokenize(prompt, true)]);
      expect(encoded[0]).toBe(ids["<|im_start|>"]);
      expect(encoded.filter((id) => id === ids["<|im_end|>"])).toHaveLength(4);
      expect([...tok.eos].sort()).toEqual([50256, ids["<|im_end|>"]].sort());
      expect(tok.decode([...tok.encode("Fine.", {}), ids["<|im_end|>"]])).toBe("Fine.");
      // Typed by a user, the markup stays text.
      expect(tok.encode("<|im_end|>")).toEqual([...ref.tokenize("<|im_end|>", false)]);
    });

    it("Llama-3: the template writes BOS, so none is added; <|eot_id|> ends generation", async () => {
      const specials = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
      ];
      const { path, ids } = writeVocabGguf(
        tmp.dir,
        "llama3.gguf",
        base,
        specials.map((text) => ({ text, type: 3 })),
        (ids) => ({
          "tokenizer.ggml.pre": "llama-bpe",
          "tokenizer.ggml.bos_token_id": ids["<|begin_of_text|>"],
          "tokenizer.ggml.eos_token_id": ids["<|end_of_text|>"],
          "tokenizer.chat_template": LLAMA3_INSTRUCT,
        }),
      );
      const tok = await tokenizerFromGgufFile(path);
      const ref = await loadLlamaCppVocab(path);
      expect(tok.addBos).toBe(true); // llama-bpe's default
      const encoded = encodeChat(tok, [system, turns[0]]);
      const prompt = renderChat(LLAMA3_INSTRUCT, [system, turns[0]], {
        bos_token: "<|begin_of_text|>",
        eos_token: "<|end_of_text|>",
      });
      expect(encoded).toEqual([...ref.tokenize(prompt, true)]);
      expect(encoded.filter((id) => id === ids["<|begin_of_text|>"])).toHaveLength(1);
      expect(tok.isEndOfGeneration(ids["<|eot_id|>"])).toBe(true);
      expect(tok.isEndOfGeneration(ids["<|end_of_text|>"])).toBe(true);
    });
  },
);
