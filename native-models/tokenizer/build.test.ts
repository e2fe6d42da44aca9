import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../formats/errors.js";
import { buildTokenizerJson } from "./build.js";
import { spaceSplitIsExact, spmMerges } from "./spm.js";
import { TextTokenizer } from "./text-tokenizer.js";
import { TokenType } from "./types.js";

// Builder behaviour on small hand-made vocabularies (no fixtures needed).

const BYTES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);

/** A tiny SentencePiece vocabulary: <unk> <s> </s>, 256 bytes, then pieces with descending scores. */
function spmMeta(
  pieces: string[],
  extra: Record<string, unknown> = {},
  types: number[] = [],
): Map<string, unknown> {
  const tokens = ["<unk>", "<s>", "</s>", ...BYTES, ...pieces];
  const tt = tokens.map(
    (_, i) =>
      types[i] ??
      (i === 0 ? TokenType.unknown : i < 3 ? TokenType.control : i < 259 ? TokenType.byte : TokenType.normal),
  );
  const scores = tokens.map((_, i) => (i < 259 ? 0 : -(i - 259)));
  return new Map<string, unknown>([
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", tt],
    ...Object.entries(extra),
  ]);
}

const spm = (meta: Map<string, unknown>) =>
  TextTokenizer.fromBuilt(buildTokenizerJson({ kind: "gguf", metadata: meta }));
const pieces = (t: TextTokenizer, ids: number[]) => ids.map((id) => t.piece(id));

describe("buildTokenizerJson: errors", () => {
  const expectCode = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelFormatError);
      expect((e as ModelFormatError).code).toBe("bad_tokenizer");
      expect((e as Error).message).toMatch(re);
      return;
    }
    throw new Error("expected a ModelFormatError");
  };

  it("refuses unknown GGUF tokenizer models, naming them", () => {
    expectCode(
      () =>
        buildTokenizerJson({
          kind: "gguf",
          metadata: new Map<string, unknown>([
            ["tokenizer.ggml.model", "t5"],
            ["tokenizer.ggml.tokens", ["a"]],
          ]),
        }),
      /"t5"/,
    );
    expectCode(() => buildTokenizerJson({ kind: "gguf", metadata: new Map() }), /tokenizer\.ggml\.model/);
    expectCode(
      () =>
        buildTokenizerJson({
          kind: "gguf",
          metadata: new Map<string, unknown>([["tokenizer.ggml.model", "llama"]]),
        }),
      /tokenizer\.ggml\.tokens/,
    );
    expectCode(() => buildTokenizerJson({ kind: "none" }), /no tokenizer/);
  });

  it("refuses unknown pre-tokenizers and gpt2 vocabularies without merges", () => {
    const bpe = (extra: [string, unknown][]) =>
      new Map<string, unknown>([
        ["tokenizer.ggml.model", "gpt2"],
        ["tokenizer.ggml.tokens", ["a", "b", "ab"]],
        ...extra,
      ]);
    expectCode(
      () =>
        buildTokenizerJson({
          kind: "gguf",
          metadata: bpe([
            ["tokenizer.ggml.merges", ["a b"]],
            ["tokenizer.ggml.pre", "klingon"],
          ]),
        }),
      /klingon.*Supported/,
    );
    expectCode(() => buildTokenizerJson({ kind: "gguf", metadata: bpe([]) }), /merges/);
    expectCode(
      () => buildTokenizerJson({ kind: "gguf", metadata: bpe([["tokenizer.ggml.merges", ["ab"]]]) }),
      /no space/,
    );
  });

  it("refuses inconsistent arrays and wrongly typed keys", () => {
    const m = spmMeta(["▁a"]);
    m.set("tokenizer.ggml.scores", [0]);
    expectCode(() => buildTokenizerJson({ kind: "gguf", metadata: m }), /scores has 1 entries/);
    const t = spmMeta(["▁a"], { "tokenizer.ggml.add_bos_token": "yes" });
    expectCode(() => buildTokenizerJson({ kind: "gguf", metadata: t }), /add_bos_token should be a boolean/);
    expectCode(
      () => buildTokenizerJson({ kind: "llama2c", pieces: ["a", "b"], scores: [0] }),
      /2 pieces but 1 scores/,
    );
    expectCode(() => buildTokenizerJson({ kind: "hf", tokenizerJson: [] }), /not a JSON object/);
  });
});

describe("SentencePiece from GGUF", () => {
  it("merges by piece score, highest first, like llama.cpp", () => {
    // "▁ab" would win over "▁a"+"b" only through "ab": scores decide.
    const t = spm(spmMeta(["▁a", "ab", "▁ab", "b", "a", "▁"]));
    expect(pieces(t, t.encode("ab", { addBos: false }))).toEqual(["▁ab"]);
    const t2 = spm(spmMeta(["b", "a", "▁", "▁a"])); // no "ab" or "▁ab"
    expect(pieces(t2, t2.encode("ab", { addBos: false }))).toEqual(["▁a", "b"]);
  });

  it("splits text into ▁-words only when no piece can merge across that boundary", () => {
    expect(spaceSplitIsExact(["▁a", "▁▁", "▁▁b", "ab"])).toBe(true);
    expect(spaceSplitIsExact(["▁a", "a▁"])).toBe(false);
    const t = spm(spmMeta(["a▁", "▁", "a", "b"]));
    expect(pieces(t, t.encode("a b", { addBos: false }))).toEqual(["▁", "a▁", "b"]);
    const u = spm(spmMeta(["▁", "a", "b", "▁a", "▁b"]));
    expect(pieces(u, u.encode("a b", { addBos: false }))).toEqual(["▁a", "▁b"]);
  });

  it("falls back to bytes for characters outside the vocabulary", () => {
    const t = spm(spmMeta(["▁", "a"]));
    expect(pieces(t, t.encode("é", { addBos: false }))).toEqual(["▁", "<0xC3>", "<0xA9>"]);
    expect(t.decode(t.encode("é a"))).toBe("é a");
  });

  it("honours add_space_prefix, add_bos_token and add_eos_token", () => {
    const plain = spm(
      spmMeta(["▁", "a", "▁a"], {
        "tokenizer.ggml.add_space_prefix": false,
        "tokenizer.ggml.add_bos_token": false,
        "tokenizer.ggml.add_eos_token": true,
      }),
    );
    expect(pieces(plain, plain.encode("a a"))).toEqual(["a", "▁a", "</s>"]);
    expect(plain.decode(plain.encode(" a"))).toBe(" a");
    const def = spm(spmMeta(["▁", "a", "▁a"]));
    expect(pieces(def, def.encode("a a"))).toEqual(["<s>", "▁a", "▁a"]);
  });

  it("splits user-defined tokens out of any text, control tokens only on request", () => {
    const m = spmMeta(["▁", "x", "▁x", "<tool>", "<|eot|>"], {}, {
      262: TokenType.userDefined,
      263: TokenType.control,
    } as unknown as number[]);
    const t = spm(m);
    expect(pieces(t, t.encode("x<tool>x", { addBos: false }))).toEqual(["▁x", "<tool>", "▁x"]);
    expect(pieces(t, t.encode("x<|eot|>", { addBos: false, parseSpecial: true }))).toEqual(["▁x", "<|eot|>"]);
    expect(pieces(t, t.encode("x<|eot|>", { addBos: false }))).not.toContain("<|eot|>");
  });

  it("records end-of-generation ids from EOS/EOT keys and known end-of-turn texts", () => {
    const m = spmMeta(["▁", "<|eot_id|>", "<end_of_turn>", "<|im_end|>"], {
      "tokenizer.ggml.eot_token_id": 260,
    });
    const built = buildTokenizerJson({ kind: "gguf", metadata: m });
    expect(built.special.eos).toEqual([2, 260, 261, 262]);
    expect(built.special.bos).toBe(1);
  });

  it("ranks tied scores longer-left first, so runs of ▁ grow from the left as in llama.cpp", () => {
    const ps = ["▁", "▁▁", "▁▁▁", "▁▁▁▁"];
    const merges = spmMerges(ps, [-1e9, -1e9, -1e9, -1e9]);
    expect(merges.slice(0, 3)).toEqual([
      ["▁▁▁", "▁"],
      ["▁▁", "▁"],
      ["▁▁", "▁▁"],
    ]);
    const m = spmMeta(ps, { "tokenizer.ggml.add_space_prefix": false });
    m.set(
      "tokenizer.ggml.scores",
      (m.get("tokenizer.ggml.scores") as number[]).map((s, i) => (i < 259 ? s : -1e9)),
    );
    const t = spm(m);
    expect(pieces(t, t.encode(" ".repeat(9), { addBos: false }))).toEqual(["▁▁▁▁", "▁▁▁▁", "▁"]);
  });

  it("passes through a chat template and keeps weird pieces as plain vocabulary keys", () => {
    const built = buildTokenizerJson({
      kind: "gguf",
      metadata: spmMeta(["__proto__", "constructor", ""], { "tokenizer.chat_template": "{{ x }}" }),
    });
    expect(built.chatTemplate).toBe("{{ x }}");
    expect(built.tokenizerConfig.chat_template).toBe("{{ x }}");
    const vocab = (built.tokenizerJson as { model: { vocab: Record<string, number> } }).model.vocab;
    expect(Object.keys(vocab)).toContain("__proto__");
    expect(vocab["[EMPTY_261]"]).toBe(261);
  });
});

describe("llama2.c pieces", () => {
  it("maps spaces to ▁, BOS/EOS markers to <s>/</s>, and <0xNN> to byte tokens", () => {
    const raw = ["<unk>", "\n<s>\n", "\n</s>\n", ...BYTES, " ", "a", " a"];
    const built = buildTokenizerJson({ kind: "llama2c", pieces: raw, scores: raw.map((_, i) => -i) });
    const t = TextTokenizer.fromBuilt(built);
    expect(t.piece(1)).toBe("<s>");
    expect(t.piece(261)).toBe("▁a");
    expect(pieces(t, t.encode("a é"))).toEqual(["<s>", "▁a", "▁", "<0xC3>", "<0xA9>"]);
    expect(built.special).toMatchObject({ bos: 1, eos: [2], unk: 0, addBos: true, addEos: false });
  });
});

describe("Hugging Face pass-through", () => {
  const json = {
    version: "1.0",
    added_tokens: [
      { id: 0, content: "<|endoftext|>", special: true },
      { id: 4, content: "<|im_end|>", special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel" },
    model: {
      type: "BPE",
      vocab: { "<|endoftext|>": 0, h: 1, i: 2, hi: 3, "<|im_end|>": 4 },
      merges: ["h i"],
    },
  };

  it("keeps tokenizer.json as is and reads the config's template, BOS/EOS and add_bos_token", () => {
    const config = {
      eos_token: { content: "<|im_end|>" },
      bos_token: null,
      chat_template: [
        { name: "tool_use", template: "T" },
        { name: "default", template: "D" },
      ],
    };
    const built = buildTokenizerJson({ kind: "hf", tokenizerJson: json, tokenizerConfig: config });
    expect(built.tokenizerJson).toBe(json);
    expect(built.chatTemplate).toBe("D");
    expect(built.special).toMatchObject({ eos: [4, 0], addBos: false, eosToken: "<|im_end|>" });
    const t = TextTokenizer.fromBuilt(built);
    expect(t.encode("hi<|im_end|>", { parseSpecial: true })).toEqual([3, 4]);
    expect(t.decode([3, 4])).toBe("hi");
    expect(t.meta.decode).toBe("byte-level");
  });

  it("detects BOS from a TemplateProcessing post-processor when the config is silent", () => {
    const withBos = {
      ...json,
      post_processor: {
        type: "TemplateProcessing",
        single: [
          { SpecialToken: { id: "<|endoftext|>", type_id: 0 } },
          { Sequence: { id: "A", type_id: 0 } },
        ],
        pair: [],
        special_tokens: { "<|endoftext|>": { id: "<|endoftext|>", ids: [0], tokens: ["<|endoftext|>"] } },
      },
    };
    const built = buildTokenizerJson({ kind: "hf", tokenizerJson: withBos, tokenizerConfig: {} });
    expect(built.special).toMatchObject({ bos: 0, addBos: true });
    expect(TextTokenizer.fromBuilt(built).encode("hi")).toEqual([0, 3]);
  });
});
