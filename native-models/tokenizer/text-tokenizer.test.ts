import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufMetadata } from "../formats/gguf.js";
import { haveShared, stories, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir, type TempDir } from "../test-support/temp-files.js";
import { buildTokenizerJson } from "./build.js";
import { loadTokenizer, saveTokenizer } from "./files.js";
import { tokenizerCorpus } from "./testing/corpus.js";
import { readJson, tokenizerFromGgufFile } from "./testing/fixtures.js";
import { TextTokenizer } from "./text-tokenizer.js";

function streamAll(tok: TextTokenizer, ids: number[], opts = {}): string[] {
  const s = tok.createStreamDecoder(opts);
  return [...ids.map((id) => s.push(id)), s.flush()];
}

const VOCABS = [
  {
    name: "Llama SentencePiece",
    file: vocabOnly.llamaSpm,
    fixture: "models/vocab-only/ggml-vocab-llama-spm.gguf",
  },
  { name: "GPT-2 byte-level", file: vocabOnly.gpt2, fixture: "models/vocab-only/ggml-vocab-gpt-2.gguf" },
];

for (const v of VOCABS) {
  describe.skipIf(!haveShared(v.fixture))(`TextTokenizer decoding: ${v.name}`, () => {
    let tok: TextTokenizer;
    beforeAll(async () => {
      tok = await tokenizerFromGgufFile(v.file);
    });

    it("round-trips the parity corpus through encode/decode, and streaming gives the same text", () => {
      for (const text of tokenizerCorpus()) {
        if (v.name.includes("Sentence") && text.includes("\u2581")) continue; // ▁ is how SentencePiece writes a space
        const ids = tok.encode(text);
        expect(tok.decode(ids), JSON.stringify(text)).toBe(text);
        const parts = streamAll(tok, ids);
        expect(parts.join("")).toBe(text);
        expect(
          parts.some((p) => p.includes("\uFFFD")),
          JSON.stringify(text),
        ).toBe(false);
      }
    });

    it("streams a multi-token emoji as one piece of text, never U+FFFD", () => {
      const ids = tok.encode("a😀b", { addBos: false });
      const parts = streamAll(tok, ids);
      expect(parts.join("")).toBe("a😀b");
      expect(parts.filter((p) => p !== "")).toEqual(["a", "😀", "b"]);
      expect(ids.length).toBeGreaterThan(3); // the emoji really is split over several ids
    });

    it("an incomplete character at the end comes out as U+FFFD on flush, as decode() does", () => {
      const ids = tok.encode("😀", { addBos: false });
      const cut = ids.slice(0, -1);
      expect(streamAll(tok, cut).join("")).toBe(tok.decode(cut));
      expect(tok.decode(cut)).toContain("\uFFFD");
    });

    it("skips special tokens unless asked, and never throws on unknown ids", () => {
      const eos = [...tok.eos][0];
      const ids = [...tok.encode("Hi there"), eos];
      expect(tok.decode(ids)).toBe("Hi there");
      expect(tok.decode(ids, { skipSpecial: false })).toContain(tok.eosToken);
      expect(tok.decode([tok.vocabSize + 10])).toBe("");
      expect(tok.isEndOfGeneration(eos)).toBe(true);
    });
  });
}

describe.skipIf(!haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf"))(
  "TextTokenizer: SentencePiece leading space",
  () => {
    let tok: TextTokenizer;
    beforeAll(async () => {
      tok = await tokenizerFromGgufFile(vocabOnly.llamaSpm);
    });

    it("drops only the dummy-prefix space, matching full decode", () => {
      const hello = tok.encode("Hello", { addBos: false }); // [▁Hello]
      expect(tok.piece(hello[0])).toBe("▁Hello");
      expect(tok.decode(hello)).toBe("Hello");
      expect(tok.decode(tok.encode(" Hello"))).toBe(" Hello");
      expect(tok.decode(tok.encode("  Hello"))).toBe("  Hello");
      expect(streamAll(tok, tok.encode(" Hello")).join("")).toBe(" Hello");
    });

    it("keepLeadingSpace continues earlier text (generation after a prompt)", () => {
      const prompt = tok.encode("Once upon");
      const more = tok.encode("Once upon a time", { addBos: false }).slice(prompt.length - 1);
      expect(tok.decode(more, { keepLeadingSpace: true })).toBe(" a time");
      expect(streamAll(tok, more, { keepLeadingSpace: true }).join("")).toBe(" a time");
      expect(tok.decode(more)).toBe("a time");
    });

    it("byte-fallback pieces of a split character stream as one character", () => {
      const ids = tok.encode("🦙", { addBos: false });
      expect(ids.map((id) => tok.piece(id))).toEqual(["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"]);
      expect(streamAll(tok, ids)).toEqual(["", "", "", "", "🦙", ""]);
    });
  },
);

describe.skipIf(!haveShared("models/stories260K"))("TextTokenizer files", () => {
  let tmp: TempDir;
  beforeAll(() => {
    tmp = makeTempDir("exitlane-tokenizer-");
  });
  afterAll(() => tmp?.cleanup());

  it("saves tokenizer.json + tokenizer_config.json and loads them back unchanged", async () => {
    const built = buildTokenizerJson({ kind: "gguf", metadata: await readGgufMetadata(stories.gguf) });
    const dir = path.join(tmp.dir, "stories");
    await saveTokenizer(dir, built);
    const loaded = await loadTokenizer(dir);
    const direct = TextTokenizer.fromBuilt(built);
    for (const text of tokenizerCorpus().slice(0, 100))
      expect(loaded.encode(text)).toEqual(direct.encode(text));
    expect(loaded.meta).toEqual(direct.meta);
  });

  it("loads a plain Hugging Face folder (no exitlane block) by analysing it", async () => {
    const hf = await loadTokenizer(stories.hf);
    expect(hf.meta.origin).toBe("hf");
    expect(hf.encode("Once upon a time")).toEqual([1, 403, 407, 261, 378]);
    const json = await readJson(path.join(stories.hf, "tokenizer.json"));
    expect(new TextTokenizer(json, undefined).encode("Once upon a time")).toEqual([1, 403, 407, 261, 378]);
  });

  it("reports missing or broken files clearly", async () => {
    await expect(loadTokenizer(path.join(tmp.dir, "nope"))).rejects.toMatchObject({ code: "not_found" });
    const broken = tmp.folder("broken", { "tokenizer.json": "{ not json" });
    await expect(loadTokenizer(broken)).rejects.toMatchObject({ code: "bad_tokenizer" });
  });
});

describe("TextTokenizer with a decoder it does not model (WordPiece)", () => {
  const json = {
    version: "1.0",
    added_tokens: [{ id: 0, content: "[UNK]", special: true }],
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: { type: "WordPiece", prefix: "##", cleanup: false },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      vocab: { "[UNK]": 0, hel: 1, "##lo": 2, world: 3 },
    },
  };

  it("decodes and streams through the library's decoder", () => {
    const tok = new TextTokenizer(json, {});
    expect(tok.meta.decode).toBe("hf");
    const ids = tok.encode("hello world");
    expect(ids).toEqual([1, 2, 3]);
    expect(tok.decode(ids)).toBe("hello world");
    expect(streamAll(tok, ids)).toEqual(["hel", "lo", " world", ""]);
    expect(tok.decode([])).toBe("");
  });
});
