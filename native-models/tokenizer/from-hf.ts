import { Tokenizer } from "@huggingface/tokenizers";
import { ModelFormatError } from "../formats/errors.js";
import { endOfGenerationIds } from "./end-of-generation.js";
import {
  addedTokensOf,
  asObject,
  chatTemplateOf,
  decoderSteps,
  piecesOf,
  tokenText,
  type Json,
} from "./hf-json.js";
import { SPIECE_SPACE } from "./spm.js";
import type { DecodeMode, TokenizerMeta } from "./types.js";

// A Hugging Face tokenizer.json is used as is; we only work out what it does not state plainly:
// BOS/EOS ids, whether BOS/EOS are added, the end-of-generation set, and how ids become bytes.

export function loadHfLibrary(json: Json, config: Json): Tokenizer {
  // The library validates these keys exist (null is fine), and its decode applies HF's
  // clean_up_tokenization (" ." -> ".") unless told not to; we never want text altered.
  const full = {
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    added_tokens: [],
    ...json,
  };
  try {
    return new Tokenizer(full, { ...config, clean_up_tokenization_spaces: false });
  } catch (e) {
    throw new ModelFormatError(
      "bad_tokenizer",
      `tokenizer.json could not be loaded: ${(e as Error).message}`,
    );
  }
}

export function decodeModeOf(json: Json): { decode: DecodeMode; stripLeadingSpace: boolean } {
  const steps = decoderSteps(json.decoder);
  if (steps.some((d) => d.type === "ByteLevel")) return { decode: "byte-level", stripLeadingSpace: false };
  const metaspace = steps.find((d) => d.type === "Metaspace");
  const spm =
    metaspace ||
    steps.some((d) => d.type === "ByteFallback") ||
    steps.some((d) => d.type === "Replace" && (d.pattern as Json | undefined)?.String === SPIECE_SPACE);
  if (!spm) return { decode: "hf", stripLeadingSpace: false };
  const strip = steps.some((d) => d.type === "Strip" && d.content === " " && Number(d.start) > 0);
  const metaStrip =
    !!metaspace && metaspace.prepend_scheme !== "never" && metaspace.add_prefix_space !== false;
  return { decode: "spm", stripLeadingSpace: strip || metaStrip };
}

export function analyzeHfTokenizer(
  jsonIn: unknown,
  configIn: unknown,
): { meta: TokenizerMeta; chatTemplate?: string } {
  const json = asObject(jsonIn, "tokenizer.json");
  const config =
    configIn === undefined || configIn === null ? {} : asObject(configIn, "tokenizer_config.json");
  const pieces = piecesOf(json);
  const idOf = textToId(json, pieces);
  const bosToken = tokenText(config.bos_token);
  const eosToken = tokenText(config.eos_token);
  let bos = bosToken !== undefined ? idOf(bosToken) : undefined;
  let eos = eosToken !== undefined ? idOf(eosToken) : undefined;
  const unkText =
    tokenText(config.unk_token) ??
    (asObject(json.model, "tokenizer.json model").unk_token as string | undefined);
  const unk = unkText !== undefined ? idOf(unkText) : undefined;

  // What the post-processor frames a text with, unless the config says explicitly.
  const framing = postProcessorFraming(json) ?? probeFraming(loadHfLibrary(json, config));
  bos ??= framing.prefix[0];
  eos ??= framing.suffix.at(-1);
  const prefix = framing.prefix;
  const suffix = framing.suffix;
  const addBos = typeof config.add_bos_token === "boolean" ? config.add_bos_token : prefix.length > 0;
  const addEos = typeof config.add_eos_token === "boolean" ? config.add_eos_token : suffix.length > 0;

  const meta: TokenizerMeta = {
    version: 1,
    origin: "hf",
    ...decodeModeOf(json),
    bos,
    eos: endOfGenerationIds([eos], pieces),
    unk,
    addBos: addBos && bos !== undefined,
    addEos: addEos && eos !== undefined,
    bosToken: bos !== undefined ? pieces[bos] : undefined,
    eosToken: eos !== undefined ? pieces[eos] : undefined,
  };
  return { meta, chatTemplate: chatTemplateOf(config) };
}

function textToId(json: Json, pieces: string[]): (text: string) => number | undefined {
  const added = new Map(addedTokensOf(json).map((t) => [t.content, t.id]));
  let byPiece: Map<string, number> | undefined;
  return (text) => {
    const a = added.get(text);
    if (a !== undefined) return a;
    byPiece ??= new Map(pieces.map((p, id) => [p, id]));
    return byPiece.get(text);
  };
}

interface Framing {
  prefix: number[];
  suffix: number[];
}

/** TemplateProcessing (Llama, Llama 3, Qwen, ...) states its framing; read it rather than guess. */
function postProcessorFraming(json: Json): Framing | undefined {
  const steps = decoderLikeSteps(json.post_processor, "processors");
  const tp = steps.find((p) => p.type === "TemplateProcessing");
  if (!tp || !Array.isArray(tp.single)) return steps.length === 0 ? { prefix: [], suffix: [] } : undefined;
  const specials = (tp.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
  const out: Framing = { prefix: [], suffix: [] };
  let seenSequence = false;
  for (const item of tp.single as Json[]) {
    if (item.Sequence) seenSequence = true;
    const sp = item.SpecialToken as { id?: string } | undefined;
    if (!sp?.id) continue;
    const ids = specials[sp.id]?.ids ?? [];
    (seenSequence ? out.suffix : out.prefix).push(...ids);
  }
  return out;
}

/** Other post-processors: encode a probe text with and without special tokens and compare. */
function probeFraming(lib: Tokenizer): Framing {
  for (const probe of ["Hello world", "a", "0", "."]) {
    const plain = lib.encode(probe, { add_special_tokens: false }).ids;
    if (plain.length === 0) continue;
    const framed = lib.encode(probe, { add_special_tokens: true }).ids;
    const start = framed.findIndex((_, i) => plain.every((id, j) => framed[i + j] === id));
    if (start < 0) break;
    return { prefix: framed.slice(0, start), suffix: framed.slice(start + plain.length) };
  }
  return { prefix: [], suffix: [] };
}

function decoderLikeSteps(value: unknown, listKey: string): Json[] {
  if (!value || typeof value !== "object") return [];
  const v = value as Json;
  if (v.type === "Sequence" && Array.isArray(v[listKey]))
    return (v[listKey] as unknown[]).flatMap((x) => decoderLikeSteps(x, listKey));
  return [v];
}
