import { ModelFormatError } from "../formats/errors.js";
import { endOfGenerationIds } from "./end-of-generation.js";
import { preTokenizerFor, preTokenizerJson } from "./pretokenizers.js";
import { spmAddedTokens } from "./spm.js";
import { bpeModel, cleanPieces, templatePostProcessor, vocabObject } from "./tokenizer-json.js";
import type { TokenizerJson, TokenizerMeta } from "./types.js";

// A byte-level BPE vocabulary (GGUF `gpt2`: GPT-2, Llama 3, Qwen2, SmolLM, ...) written as tokenizer.json.

export interface BpeVocab {
  tokens: readonly string[];
  types?: readonly number[];
  /** "left right" strings, rank order. */
  merges: readonly string[];
  pre?: string;
  bos?: number;
  eos?: number;
  eot?: number;
  eom?: number;
  unk?: number;
  /** From the file; undefined falls back to the pre-tokenizer's llama.cpp default. */
  addBos?: boolean;
  addEos?: boolean;
}

/** llama.cpp splits each merge at the first space after the first character (so " " can be a part). */
export function parseMerges(merges: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i];
    const pos = m.indexOf(" ", 1);
    if (pos < 0)
      throw new ModelFormatError(
        "bad_tokenizer",
        `tokenizer.ggml.merges[${i}] has no space: ${JSON.stringify(m)}`,
      );
    out.push([m.slice(0, pos), m.slice(pos + 1)]);
  }
  return out;
}

export function buildBpeTokenizer(v: BpeVocab): { json: TokenizerJson; meta: TokenizerMeta } {
  const pre = preTokenizerFor(v.pre);
  const pieces = cleanPieces(v.tokens);
  const addBos = (v.addBos ?? pre.addBosDefault) && v.bos !== undefined;
  const addEos = (v.addEos ?? false) && v.eos !== undefined;
  const bosToken = v.bos !== undefined ? pieces[v.bos] : undefined;
  const eosToken = v.eos !== undefined ? pieces[v.eos] : undefined;
  const json: TokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    // Same rule as SentencePiece: control/unknown are special, user-defined are matched in any text.
    added_tokens: spmAddedTokens(pieces, v.types),
    normalizer: null,
    pre_tokenizer: preTokenizerJson(pre),
    post_processor: templatePostProcessor(
      addBos ? bosToken : undefined,
      v.bos,
      addEos ? eosToken : undefined,
      v.eos,
    ),
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: bpeModel(vocabObject(pieces), parseMerges(v.merges), {
      unk: v.unk !== undefined ? pieces[v.unk] : null,
      byteFallback: false,
      ignoreMerges: pre.ignoreMerges,
    }),
  };
  const meta: TokenizerMeta = {
    version: 1,
    origin: "gguf-bpe",
    decode: "byte-level",
    stripLeadingSpace: false,
    bos: v.bos,
    eos: endOfGenerationIds([v.eos, v.eot, v.eom], pieces),
    unk: v.unk,
    addBos,
    addEos,
    bosToken,
    eosToken,
  };
  return { json, meta };
}
