import type { LlamaModel } from "node-llama-cpp";
import { beforeAll, describe, expect, it } from "vitest";
import { openGguf } from "../formats/gguf-model.js";
import { openHfFolder } from "../formats/hf-folder.js";
import { openLlama2c } from "../formats/llama2c.js";
import type { ModelSource } from "../formats/model-source.js";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { buildTokenizerJson } from "./build.js";
import { tokenizerCorpus } from "./testing/corpus.js";
import { readJson } from "./testing/fixtures.js";
import { loadLlamaCppVocab } from "./testing/llama-cpp.js";
import { TextTokenizer } from "./text-tokenizer.js";

// stories260K ships one vocabulary in three formats. All three must give the same ids, the ids of
// the reference files (made with SentencePiece), and llama.cpp's.

interface Story {
  text: string;
  ids: number[];
  n_tokens_untruncated: number;
}
interface GreedyCase {
  prompt: string;
  prompt_ids: number[];
  new_ids: number[];
  new_text: string;
  full_text: string;
}

describe.skipIf(!haveShared("models/stories260K"))(
  "stories260K: GGUF, HF tokenizer.json and llama2.c tok512.bin agree",
  () => {
    let gguf: TextTokenizer;
    let hf: TextTokenizer;
    let llama2c: TextTokenizer;
    let ref: LlamaModel;
    let storyList: Story[];
    let greedy: GreedyCase[];
    let lines: string[];

    beforeAll(async () => {
      // Through the format readers' ModelSource, the way the converter gets them.
      const fromReader = async (open: () => Promise<ModelSource>) => {
        const source = await open();
        try {
          return TextTokenizer.fromBuilt(buildTokenizerJson(source.tokenizer));
        } finally {
          await source.close();
        }
      };
      gguf = await fromReader(() => openGguf(stories.gguf));
      hf = await fromReader(() => openHfFolder(stories.hf));
      llama2c = await fromReader(() => openLlama2c(stories.llama2c));
      ref = await loadLlamaCppVocab(stories.gguf);
      storyList = ((await readJson(stories.reference("stories"))) as { stories: Story[] }).stories;
      greedy = ((await readJson(stories.reference("greedy"))) as { cases: GreedyCase[] }).cases;
      lines = [
        ...storyList.flatMap((s) => s.text.split("\n")),
        ...greedy.flatMap((c) => c.full_text.split("\n")),
      ].slice(0, 200);
    });

    it("all three describe the same special tokens", () => {
      for (const t of [gguf, hf, llama2c]) {
        expect({
          bos: t.bos,
          eos: [...t.eos],
          addBos: t.addBos,
          bosToken: t.bosToken,
          eosToken: t.eosToken,
        }).toEqual({
          bos: 1,
          eos: [2],
          addBos: true,
          bosToken: "<s>",
          eosToken: "</s>",
        });
        expect(t.meta.stripLeadingSpace).toBe(true);
      }
    });

    it("give the same ids as each other and llama.cpp on the reference story lines", () => {
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) {
        const ids = gguf.encode(line, { addBos: false });
        expect(hf.encode(line, { addBos: false }), line).toEqual(ids);
        expect(llama2c.encode(line, { addBos: false }), line).toEqual(ids);
        expect([...ref.tokenize(line)], line).toEqual(ids);
      }
    });

    it("reproduce the reference ids of the stories (BOS + text, cut to the 512-token context)", () => {
      for (const s of storyList) {
        for (const t of [gguf, hf, llama2c]) {
          const ids = t.encode(s.text);
          expect(ids.length).toBe(s.n_tokens_untruncated);
          expect(ids.slice(0, 512)).toEqual(s.ids);
        }
      }
    });

    it("reproduce the greedy cases' prompt ids and decode their outputs to the reference text", () => {
      for (const c of greedy) {
        for (const t of [gguf, hf, llama2c]) {
          expect(t.encode(c.prompt)).toEqual(c.prompt_ids);
          expect(t.decode([...c.prompt_ids, ...c.new_ids])).toBe(c.full_text);
          const stream = t.createStreamDecoder();
          let streamed = "";
          for (const id of [...c.prompt_ids, ...c.new_ids]) streamed += stream.push(id);
          expect(streamed + stream.flush()).toBe(c.full_text);
        }
      }
    });

    it("keep a final space as a ▁ token (the README's whitespace caveat, where SentencePiece differs)", () => {
      const line = "Lily and Ben were friends. ";
      for (const t of [gguf, hf, llama2c]) {
        const ids = t.encode(line, { addBos: false });
        expect(ids.at(-1)).toBe(410);
        expect(t.piece(410)).toBe("▁");
        expect(ids).toEqual([...ref.tokenize(line)]);
        expect(t.decode(ids)).toBe(line);
      }
      for (const variant of ["  two leading", "double  inside", "trailing twice  ", "\ttab", "a\n\nb"]) {
        expect(hf.encode(variant)).toEqual(gguf.encode(variant));
        expect(llama2c.encode(variant)).toEqual(gguf.encode(variant));
      }
    });

    it("agree with each other on the whole parity corpus", () => {
      const differ = tokenizerCorpus().filter((text) => {
        const a = gguf.encode(text);
        return (
          JSON.stringify(hf.encode(text)) !== JSON.stringify(a) ||
          JSON.stringify(llama2c.encode(text)) !== JSON.stringify(a)
        );
      });
      expect(differ).toEqual([]);
    });
  },
);
