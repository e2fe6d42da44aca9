import { ModelFormatError } from "../formats/errors.js";

// GGUF `tokenizer.ggml.pre` -> the regular expressions llama.cpp splits text with before byte-level
// BPE (llama-vocab.cpp, llm_tokenizer_bpe), applied one after the other, each keeping matches and the
// gaps between them. Written in JavaScript syntax: `(?i:...)` spelled out, and `\s` as Unicode
// White_Space, which is llama.cpp's whitespace set (JavaScript's `\s` adds U+FEFF and lacks U+0085).

const S = "\\p{White_Space}";
const NS = "\\P{White_Space}";
const CONTRACTIONS_CI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|${S}+(?!${NS})|${S}+`;
const llama3Like = (digits: string) =>
  `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${digits}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const LLAMA3 = llama3Like("\\p{N}{1,3}");
const QWEN2 = llama3Like("\\p{N}");
const CASED_WORDS = (suffix: string, digits: string, tail: string) =>
  `[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+${suffix}` +
  `|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*${suffix}` +
  `|${digits}| ?[^${S}\\p{L}\\p{N}]+${tail}|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`;
const PORO = ` ?[^(${S}|.,!?…。，、।۔،)]+`;

export interface PreTokenizerSpec {
  /** Applied in order, each splitting the pieces of the previous one. */
  regexes: string[];
  /** A whole pre-token that is itself a vocabulary entry is emitted as is (tiktoken-style). */
  ignoreMerges: boolean;
  /** llama.cpp's add_bos default for this pre-tokenizer when the file has no add_bos_token key. */
  addBosDefault: boolean;
}

const spec = (regexes: string[], ignoreMerges = false, addBosDefault = false): PreTokenizerSpec => ({
  regexes,
  ignoreMerges,
  addBosDefault,
});

const SPECS: [string[], PreTokenizerSpec][] = [
  [
    [
      "gpt-2",
      "phi-2",
      "jina-es",
      "jina-de",
      "gigachat",
      "jina-v2-es",
      "jina-v2-de",
      "a.x-4.0",
      "mellum",
      "modern-bert",
      "jina-v1-en",
      "jina-v2-code",
      "roberta-bpe",
      "mpt",
      "olmo",
      "jais",
      "exaone4",
      "trillion",
      "granite-docling",
    ],
    spec([GPT2]),
  ],
  [
    ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"],
    spec([LLAMA3], true, true),
  ],
  [["dbrx", "smaug-bpe", "glm4", "chatglm-bpe"], spec([LLAMA3])],
  [["qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "grok-2"], spec([QWEN2])],
  [
    ["starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"],
    spec(["\\p{N}", GPT2]),
  ],
  [["falcon"], spec([`[\\p{P}\\$\\+<=>\\^~\\|\`]+`, GPT2, "[0-9][0-9][0-9]"])],
  [["default"], spec([`[\\p{P}\\$\\+<=>\\^~\\|]+`, GPT2, "\\p{N}+", "[0-9][0-9][0-9]"])],
  [["deepseek-coder"], spec(["[\\r\\n]", `${S}?\\p{L}+`, `${S}?\\p{P}+`, "[一-龥ࠀ-一가-퟿]+", "\\p{N}"])],
  [["tekken"], spec([CASED_WORDS("", "\\p{N}", "[\\r\\n/]*")], true, true)],
  [["gpt-4o", "llama4"], spec([CASED_WORDS(`${CONTRACTIONS_CI}?`, "\\p{N}{1,3}", "[\\r\\n/]*")])],
  [["poro-chat", "bloom", "gpt3-finnish"], spec([PORO])],
  [["viking"], spec([PORO, "\\p{N}"])],
];

const BY_NAME = new Map<string, PreTokenizerSpec>(
  SPECS.flatMap(([names, s]) => names.map((n) => [n, s] as const)),
);

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = [...BY_NAME.keys()];

/**
 * The split rules for a GGUF `tokenizer.ggml.pre`. A missing value means "default", as in llama.cpp
 * (which warns that quality is degraded). Unknown names are refused: a wrong guess would silently
 * tokenize differently from the model's training.
 */
export function preTokenizerFor(pre: string | undefined): PreTokenizerSpec {
  const found = BY_NAME.get(pre ?? "default");
  if (found) return found;
  throw new ModelFormatError(
    "bad_tokenizer",
    `Unsupported GGUF pre-tokenizer "${pre}" (tokenizer.ggml.pre). Supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`,
  );
}

/** tokenizer.json pre_tokenizer: the splits, then bytes -> GPT-2 unicode characters. */
export function preTokenizerJson(p: PreTokenizerSpec): unknown {
  const splits = p.regexes.map((r) => ({
    type: "Split",
    pattern: { Regex: r },
    behavior: "Isolated",
    invert: false,
  }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  return { type: "Sequence", pretokenizers: [...splits, byteLevel] };
}
