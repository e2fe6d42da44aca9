import type { LlamaModel } from "node-llama-cpp";
import { beforeAll, describe, expect, it } from "vitest";
import { haveShared, stories, vocabOnly } from "../test-support/shared-fixtures.js";
import { specialCorpus, tokenizerCorpus } from "./testing/corpus.js";
import { tokenizerFromGgufFile } from "./testing/fixtures.js";
import {
  asTokens,
  compareTokenization,
  llamaCppCleanSpaces,
  loadLlamaCppVocab,
  type Mismatch,
} from "./testing/llama-cpp.js";
import { SPIECE_SPACE } from "./spm.js";
import type { TextTokenizer } from "./text-tokenizer.js";

// Tokenizers built from GGUF vocabularies must give exactly llama.cpp's ids. node-llama-cpp's
// tokenize() adds no BOS, so ours is called with addBos: false.

// U+FEFF texts are checked in their own test: they need the GGUF reader to keep a string that
// starts with U+FEFF (Llama's token 30143 is exactly "\uFEFF"), which a default TextDecoder drops.
const BOM = "\uFEFF";
const corpus = tokenizerCorpus().filter((t) => !t.includes(BOM));
const bomCorpus = tokenizerCorpus().filter((t) => t.includes(BOM));

function report(name: string, mismatches: Mismatch[], total: number): void {
  console.log(`[parity] ${name}: ${total - mismatches.length}/${total} texts identical to llama.cpp`);
  for (const m of mismatches.slice(0, 5))
    console.log(`  ${JSON.stringify(m.text)}\n    ours ${m.ours}\n    llama.cpp ${m.llamaCpp}`);
}

interface Case {
  name: string;
  file: string;
  fixture: string[];
  specials: string[];
  /** llama.cpp cleans up spaces around punctuation when detokenizing byte-level BPE. */
  cleanSpaces: boolean;
}

const CASES: Case[] = [
  {
    name: "Llama SentencePiece 32000",
    file: vocabOnly.llamaSpm,
    fixture: ["models/vocab-only/ggml-vocab-llama-spm.gguf"],
    specials: ["<s>", "</s>", "<unk>"],
    cleanSpaces: false,
  },
  {
    name: "GPT-2 byte-level BPE",
    file: vocabOnly.gpt2,
    fixture: ["models/vocab-only/ggml-vocab-gpt-2.gguf"],
    specials: ["<|endoftext|>"],
    cleanSpaces: true,
  },
  {
    name: "stories260K SentencePiece 512",
    file: stories.gguf,
    fixture: ["models/stories260K/gguf/stories260K-f32.gguf"],
    specials: ["<s>", "</s>", "<unk>"],
    cleanSpaces: false,
  },
];

for (const c of CASES) {
  describe.skipIf(!haveShared(...c.fixture))(`llama.cpp parity: ${c.name}`, () => {
    let ours: TextTokenizer;
    let ref: LlamaModel;
    beforeAll(async () => {
      [ours, ref] = await Promise.all([tokenizerFromGgufFile(c.file), loadLlamaCppVocab(c.file)]);
    });

    it(`tokenizes ${corpus.length} varied texts exactly like llama.cpp`, () => {
      const mismatches = compareTokenization(
        corpus,
        (t) => ours.encode(t, { addBos: false }),
        (t) => ref.tokenize(t),
      );
      report(c.name, mismatches, corpus.length);
      expect(mismatches).toEqual([]);
    });

    it("tokenizes texts containing U+FEFF like llama.cpp (needs the GGUF reader to keep U+FEFF)", () => {
      const mismatches = compareTokenization(
        bomCorpus,
        (t) => ours.encode(t, { addBos: false }),
        (t) => ref.tokenize(t),
      );
      report(`${c.name} (U+FEFF)`, mismatches, bomCorpus.length);
      expect(mismatches).toEqual([]);
    });

    it("parses special-token text like llama.cpp only when asked to", () => {
      const texts = specialCorpus(c.specials);
      const parsed = compareTokenization(
        texts,
        (t) => ours.encode(t, { addBos: false, parseSpecial: true }),
        (t) => ref.tokenize(t, true),
      );
      const literal = compareTokenization(
        texts,
        (t) => ours.encode(t, { addBos: false }),
        (t) => ref.tokenize(t, false),
      );
      report(`${c.name} (special parsed)`, parsed, texts.length);
      report(`${c.name} (special as text)`, literal, texts.length);
      expect(parsed).toEqual([]);
      expect(literal).toEqual([]);
    });

    it("adds BOS as llama.cpp does", () => {
      const withBos = ref.tokenize("Hello", false);
      expect(ours.encode("Hello", { addBos: false })).toEqual([...withBos]);
      const bos = ours.bos;
      if (ours.addBos) expect(ours.encode("Hello")).toEqual([bos, ...withBos]);
      else expect(ours.encode("Hello")).toEqual([...withBos]);
    });

    it("decodes every single token like llama.cpp", () => {
      const bad: number[] = [];
      for (let id = 0; id < ours.vocabSize; id++) {
        if (ref.detokenize(asTokens([id]), true) === BOM) continue; // covered by the U+FEFF test
        const mine = ours.decode([id]);
        const theirs = ref.detokenize(asTokens([id]));
        if ((c.cleanSpaces ? llamaCppCleanSpaces(mine) : mine) !== theirs) bad.push(id);
      }
      console.log(
        `[parity] ${c.name}: ${ours.vocabSize - bad.length}/${ours.vocabSize} single-token decodes identical`,
      );
      expect(
        bad.map((id) => [id, ours.piece(id), ours.decode([id]), ref.detokenize(asTokens([id]))]).slice(0, 10),
      ).toEqual([]);
    });

    it("decodes llama.cpp's ids of the corpus back to the text, as llama.cpp does", () => {
      const notRoundTrip: string[] = [];
      const differs: string[] = [];
      for (const text of corpus) {
        const ids = [...ref.tokenize(text)];
        const mine = ours.decode(ids);
        // SentencePiece writes spaces as U+2581, so a literal U+2581 cannot come back (same in llama.cpp).
        if (mine !== text && !(c.name.includes("SentencePiece") && text.includes(SPIECE_SPACE)))
          notRoundTrip.push(text);
        if ((c.cleanSpaces ? llamaCppCleanSpaces(mine) : mine) !== ref.detokenize(ids)) differs.push(text);
      }
      expect(notRoundTrip).toEqual([]);
      expect(differs).toEqual([]);
    });
  });
}

// llama.cpp picks the split rules by tokenizer.ggml.pre. Overriding that key on the GPT-2 vocabulary
// (node-llama-cpp metadataOverrides) exercises the other pre-tokenizers against llama.cpp itself.
const PRE_TOKENIZERS = [
  "llama-bpe",
  "qwen2",
  "smollm",
  "default",
  "falcon",
  "starcoder",
  "dbrx",
  "deepseek-coder",
  "tekken",
  "gpt-4o",
  "poro-chat",
  "viking",
];

describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-gpt-2.gguf"))(
  "llama.cpp parity: pre-tokenizers on the GPT-2 vocabulary",
  () => {
    for (const pre of PRE_TOKENIZERS) {
      it(`tokenizer.ggml.pre = ${pre}`, async () => {
        const [ours, ref] = await Promise.all([
          tokenizerFromGgufFile(vocabOnly.gpt2, pre),
          loadLlamaCppVocab(vocabOnly.gpt2, pre),
        ]);
        const mismatches = compareTokenization(
          corpus,
          (t) => ours.encode(t, { addBos: false }),
          (t) => ref.tokenize(t),
        );
        report(`pre=${pre}`, mismatches, corpus.length);
        expect(mismatches).toEqual([]);
      });
    }
  },
);
