// Shapes shared by the builders and the runtime. The tokenizer.json we write is the Hugging Face
// format, so @huggingface/tokenizers (and any other HF-compatible library) can load it; everything
// it cannot express (end-of-generation ids, how to turn ids back into bytes) lives in one extra
// "exitlane" block inside tokenizer_config.json.

/** One entry of tokenizer.json `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The subset of tokenizer.json the builders write; pass-through HF files may carry more. */
export interface TokenizerJson {
  version: "1.0";
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type: "BPE";
    dropout: null;
    unk_token: string | null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: [string, string][];
  };
}

/**
 * How ids become bytes when decoding:
 * - "spm": U+2581 is a space and `<0xNN>` pieces are raw bytes (SentencePiece / byte fallback);
 * - "byte-level": every character of a piece stands for one byte (GPT-2's bytes-to-unicode table);
 * - "hf": anything else; decoding goes through the library's own decoder.
 */
export type DecodeMode = "spm" | "byte-level" | "hf";

export interface SpecialTokens {
  bos?: number;
  /** Every id that ends generation: the EOS id first, then EOT/EOM and known end-of-turn tokens. */
  eos: number[];
  unk?: number;
  addBos: boolean;
  addEos: boolean;
  bosToken?: string;
  eosToken?: string;
}

/** The block stored as tokenizer_config.json["exitlane"]. */
export interface TokenizerMeta extends SpecialTokens {
  version: 1;
  origin: "gguf-spm" | "gguf-bpe" | "llama2c" | "hf";
  decode: DecodeMode;
  /** Drop one leading space from decoded text (SentencePiece's dummy prefix). */
  stripLeadingSpace: boolean;
}

export interface BuiltTokenizer {
  tokenizerJson: object;
  /** tokenizer_config.json: HF keys (bos_token, add_bos_token, chat_template, ...) plus `exitlane`. */
  tokenizerConfig: Record<string, unknown>;
  special: SpecialTokens;
  chatTemplate?: string;
}

/** GGUF / SentencePiece token types (tokenizer.ggml.token_type). */
export const TokenType = {
  undefined: 0,
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
