import type { Tokenizer } from "@huggingface/tokenizers";
import { ModelFormatError } from "../formats/errors.js";
import type { TokenizerSource } from "../formats/model-source.js";
import { buildTokenizerJson, META_KEY } from "./build.js";
import { analyzeHfTokenizer, loadHfLibrary } from "./from-hf.js";
import { addedTokensOf, asObject, chatTemplateOf, piecesOf, type Json } from "./hf-json.js";
import { createStreamDecoder, type StreamDecoder, type StreamDecoderOptions } from "./stream-decoder.js";
import { SPACE_SPLIT, spaceSplitIsExact, SPIECE_SPACE } from "./spm.js";
import { TokenBytes } from "./token-bytes.js";
import type { BuiltTokenizer, TokenizerMeta } from "./types.js";

export interface EncodeOptions {
  /** Prepend BOS. Default: the model's add_bos_token. */
  addBos?: boolean;
  /** Append EOS. Default: the model's add_eos_token. */
  addEos?: boolean;
  /**
   * Turn special-token text such as "<|im_start|>" or "<s>" into those tokens. Default false, so text
   * typed by a user can never inject control tokens (llama.cpp's parse_special). Chat prompts rendered
   * from a template need true.
   */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, <|im_end|>, ...). Default true. */
  skipSpecial?: boolean;
  /** Keep SentencePiece's leading space, e.g. when the ids continue earlier text. Default false. */
  keepLeadingSpace?: boolean;
}

/** The runtime tokenizer: one code path for every model, over @huggingface/tokenizers. */
export class TextTokenizer {
  readonly meta: TokenizerMeta;
  readonly chatTemplate: string | undefined;
  /** End-of-generation ids (EOS, EOT, EOM, end-of-turn markers). */
  readonly eos: ReadonlySet<number>;
  readonly vocabSize: number;
  private readonly full: Tokenizer;
  private plain: Tokenizer | undefined;
  private readonly pieces: (string | undefined)[];
  private readonly special: ReadonlySet<number>;
  private readonly specialText: RegExp | undefined;
  private readonly bytes: TokenBytes | undefined;
  private readonly json: Json;
  private readonly config: Json;

  static fromBuilt(b: BuiltTokenizer): TextTokenizer {
    return new TextTokenizer(b.tokenizerJson, b.tokenizerConfig);
  }

  /** Straight from a reader's TokenizerSource (build + load; the converter saves the built files instead). */
  static fromSource(source: TokenizerSource): TextTokenizer {
    return TextTokenizer.fromBuilt(buildTokenizerJson(source));
  }

  /** From tokenizer.json and tokenizer_config.json contents (ours, or any Hugging Face pair). */
  constructor(tokenizerJson: unknown, tokenizerConfig: unknown) {
    const json = asObject(tokenizerJson, "tokenizer.json");
    const config = tokenizerConfig == null ? {} : asObject(tokenizerConfig, "tokenizer_config.json");
    this.json = json;
    this.config = config;
    this.meta = readMeta(json, config);
    this.chatTemplate = chatTemplateOf(config);
    this.full = loadHfLibrary(withSpaceSplit(json), config);
    this.pieces = piecesOf(json);
    this.vocabSize = this.pieces.length;
    const added = addedTokensOf(json);
    const specials = added.filter((t) => t.special);
    this.special = new Set(specials.map((t) => t.id));
    this.specialText = alternation(specials.map((t) => t.content));
    this.eos = new Set(this.meta.eos);
    if (this.meta.decode !== "hf")
      this.bytes = new TokenBytes(this.meta.decode, this.pieces, new Set(added.map((t) => t.id)));
  }

  get bos(): number | undefined {
    return this.meta.bos;
  }
  get addBos(): boolean {
    return this.meta.addBos;
  }
  get bosToken(): string | undefined {
    return this.meta.bosToken;
  }
  get eosToken(): string | undefined {
    return this.meta.eosToken;
  }

  isEndOfGeneration(id: number): boolean {
    return this.eos.has(id);
  }

  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /** The vocabulary entry for an id, as stored (U+2581 / byte-level characters included). */
  piece(id: number): string | undefined {
    return this.pieces[id];
  }

  /**
   * The exact bytes a token adds to decoded text (null for tokenizers decoded by the library, and
   * for ids outside the vocabulary). Constrained decoding matches these against its grammar.
   */
  tokenBytes(id: number): Uint8Array | null {
    if (!this.bytes || this.pieces[id] === undefined) return null;
    return this.bytes.of(id);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    // The library always matches added tokens in text. Without parseSpecial, special ones must stay
    // text, so such (rare) input goes through a second instance that lacks them.
    const lib = opts.parseSpecial || !this.specialText?.test(text) ? this.full : this.plainLibrary();
    const ids = text === "" ? [] : lib.encode(text, { add_special_tokens: false }).ids;
    if ((opts.addBos ?? this.meta.addBos) && this.meta.bos !== undefined) ids.unshift(this.meta.bos);
    if ((opts.addEos ?? this.meta.addEos) && this.meta.eos[0] !== undefined) ids.push(this.meta.eos[0]);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    if (!this.bytes)
      return ids.length ? this.full.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? true }) : "";
    const stream = this.createStreamDecoder(opts);
    let out = "";
    for (const id of ids) out += stream.push(id);
    return out + stream.flush();
  }

  /** Incremental decoding for generation: push ids as they come, get only new, complete text. */
  createStreamDecoder(opts: StreamDecoderOptions = {}): StreamDecoder {
    return createStreamDecoder(
      {
        bytes: this.bytes,
        skip: (id) => this.special.has(id),
        hfDecode: (ids, skipSpecial) =>
          ids.length ? this.full.decode(ids, { skip_special_tokens: skipSpecial }) : "",
        stripLeadingSpace: this.meta.stripLeadingSpace,
      },
      opts,
    );
  }

  /** The same tokenizer without special added tokens, so their text is tokenized as plain text. */
  private plainLibrary(): Tokenizer {
    this.plain ??= loadHfLibrary(
      { ...withSpaceSplit(this.json), added_tokens: addedTokensOf(this.json).filter((t) => !t.special) },
      this.config,
    );
    return this.plain;
  }
}

/**
 * Hugging Face SentencePiece-style files (Llama 2, Mistral v0.1, stories260K) run BPE over the whole
 * text, which the JS library does slowly on long prompts. When no merge can join a character to a
 * following U+2581, splitting before each "▁*word" is exact (see spaceSplitIsExact), so add that split.
 */
function withSpaceSplit(json: Json): Json {
  const model = json.model as Json | undefined;
  if (json.pre_tokenizer != null || model?.type !== "BPE" || !Array.isArray(model.merges)) return json;
  if (!JSON.stringify(json.normalizer ?? null).includes(SPIECE_SPACE)) return json;
  const merged = (model.merges as unknown[]).map((m) =>
    Array.isArray(m) ? m.join("") : String(m).replace(" ", ""),
  );
  return spaceSplitIsExact(merged) ? { ...json, pre_tokenizer: SPACE_SPLIT } : json;
}

function readMeta(json: Json, config: Json): TokenizerMeta {
  const stored = config[META_KEY];
  if (stored === undefined) return analyzeHfTokenizer(json, config).meta;
  const m = asObject(stored, `tokenizer_config.json ${META_KEY}`) as unknown as TokenizerMeta;
  if (m.version !== 1 || !Array.isArray(m.eos)) {
    throw new ModelFormatError(
      "bad_tokenizer",
      `tokenizer_config.json ${META_KEY} block has an unknown version ${String(m.version)}`,
    );
  }
  return m;
}

/** One regular expression matching any of the given literal strings (undefined when there are none). */
function alternation(texts: string[]): RegExp | undefined {
  const parts = texts.filter((t) => t.length > 0).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return parts.length ? new RegExp(parts.join("|"), "u") : undefined;
}
