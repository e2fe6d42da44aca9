import { ModelFormatError } from "../formats/errors.js";
import { buildBpeTokenizer } from "./bpe.js";
import { getBool, getNumberArray, getString, getStringArray, getTokenId, type Metadata } from "./metadata.js";
import { buildSpmTokenizer } from "./spm.js";
import type { TokenizerJson, TokenizerMeta } from "./types.js";

// GGUF tokenizer metadata (tokenizer.ggml.*) -> tokenizer.json, following llama.cpp's llama_vocab::load.

const K = "tokenizer.ggml.";

export interface FromGguf {
  json: TokenizerJson;
  meta: TokenizerMeta;
  chatTemplate?: string;
}

export function tokenizerFromGguf(meta: Metadata): FromGguf {
  const model = getString(meta, K + "model");
  if (model === undefined)
    throw new ModelFormatError(
      "bad_tokenizer",
      "GGUF file has no tokenizer (tokenizer.ggml.model is missing)",
    );
  const tokens = getStringArray(meta, K + "tokens");
  if (!tokens || tokens.length === 0)
    throw new ModelFormatError("bad_tokenizer", "GGUF file has no vocabulary (tokenizer.ggml.tokens)");
  const n = tokens.length;
  const types = perToken(getNumberArray(meta, K + "token_type"), n, "token_type");
  const id = (key: string) => getTokenId(meta, K + key, n);
  const inRange = (x: number) => (x < n ? x : undefined);
  const chatTemplate = getString(meta, "tokenizer.chat_template");

  if (model === "llama") {
    const scores = perToken(getNumberArray(meta, K + "scores"), n, "scores") ?? new Array<number>(n).fill(0);
    const built = buildSpmTokenizer(
      {
        tokens,
        scores,
        types,
        addSpacePrefix: getBool(meta, K + "add_space_prefix") ?? true,
        // llama.cpp's defaults for SentencePiece files: <unk>=0, <s>=1, </s>=2.
        bos: id("bos_token_id") ?? inRange(1),
        eos: id("eos_token_id") ?? inRange(2),
        eot: id("eot_token_id"),
        eom: id("eom_token_id"),
        unk: id("unknown_token_id") ?? id("unk_token_id") ?? inRange(0),
        addBos: getBool(meta, K + "add_bos_token") ?? true,
        addEos: getBool(meta, K + "add_eos_token") ?? false,
      },
      "gguf-spm",
    );
    return { ...phi3Rstrip(built, getString(meta, "general.name")), chatTemplate };
  }
  if (model === "gpt2") {
    const merges = getStringArray(meta, K + "merges");
    if (!merges)
      throw new ModelFormatError("bad_tokenizer", "GGUF gpt2 tokenizer has no tokenizer.ggml.merges");
    // No default BOS/EOS: llama.cpp falls back to id 11 (a Falcon leftover), which for most
    // vocabularies is an ordinary token and would stop generation on it.
    const built = buildBpeTokenizer({
      tokens,
      types,
      merges,
      pre: getString(meta, K + "pre"),
      bos: id("bos_token_id"),
      eos: id("eos_token_id"),
      eot: id("eot_token_id"),
      eom: id("eom_token_id"),
      unk: id("unknown_token_id"),
      addBos: getBool(meta, K + "add_bos_token"),
      addEos: getBool(meta, K + "add_eos_token"),
    });
    return { ...phi3Rstrip(built, getString(meta, "general.name")), chatTemplate };
  }
  throw new ModelFormatError(
    "bad_tokenizer",
    `Unsupported GGUF tokenizer model "${model}" (tokenizer.ggml.model); supported: "llama" (SentencePiece) and "gpt2" (byte-level BPE)`,
  );
}

/**
 * llama.cpp (llama_vocab::load) strips the whitespace after Phi-3's special tokens, as Phi-3's own
 * tokenizer.json does ("rstrip": true on <|user|>, <|end|>, ...), when general.name says phi-3 or
 * phi3 — except after <unk>, <s> and <|endoftext|>. So "<|user|>\nHi" encodes "Hi" without the newline.
 */
function phi3Rstrip<T extends { json: TokenizerJson }>(built: T, name: string | undefined): T {
  const lower = name?.toLowerCase() ?? "";
  if (!lower.includes("phi-3") && !lower.includes("phi3")) return built;
  const kept = new Set(["<unk>", "<s>", "<|endoftext|>"]);
  const added_tokens = built.json.added_tokens.map((t) => ({ ...t, rstrip: !kept.has(t.content) }));
  return { ...built, json: { ...built.json, added_tokens } };
}

function perToken(values: number[] | undefined, n: number, key: string): number[] | undefined {
  if (values && values.length < n) {
    throw new ModelFormatError(
      "bad_tokenizer",
      `tokenizer.ggml.${key} has ${values.length} entries for ${n} tokens`,
    );
  }
  return values;
}
