import { ModelFormatError } from "../formats/errors.js";
import type { AddedTokenJson } from "./types.js";

// Read-only helpers over a Hugging Face tokenizer.json / tokenizer_config.json of unknown provenance.

export type Json = Record<string, unknown>;

export function asObject(value: unknown, what: string): Json {
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Json;
  throw new ModelFormatError("bad_tokenizer", `${what} is not a JSON object`);
}

export function addedTokensOf(json: Json): AddedTokenJson[] {
  const list = json.added_tokens;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list))
    throw new ModelFormatError("bad_tokenizer", "tokenizer.json added_tokens is not an array");
  return list.map((t, i) => {
    const o = asObject(t, `tokenizer.json added_tokens[${i}]`);
    if (typeof o.content !== "string" || typeof o.id !== "number") {
      throw new ModelFormatError(
        "bad_tokenizer",
        `tokenizer.json added_tokens[${i}] needs a string content and a numeric id`,
      );
    }
    const special = o.special === true;
    return {
      id: o.id,
      content: o.content,
      single_word: o.single_word === true,
      lstrip: o.lstrip === true,
      rstrip: o.rstrip === true,
      normalized: typeof o.normalized === "boolean" ? o.normalized : !special,
      special,
    };
  });
}

/** id -> piece for the whole vocabulary (model vocab, then added tokens, which win). */
export function piecesOf(json: Json): string[] {
  const model = asObject(json.model, "tokenizer.json model");
  const pieces: string[] = [];
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], ...] in id order.
    vocab.forEach((entry, id) => {
      if (Array.isArray(entry) && typeof entry[0] === "string") pieces[id] = entry[0];
    });
  } else if (vocab && typeof vocab === "object") {
    for (const [piece, id] of Object.entries(vocab as Record<string, unknown>))
      if (typeof id === "number") pieces[id] = piece;
  } else {
    throw new ModelFormatError("bad_tokenizer", "tokenizer.json model has no vocab");
  }
  for (const t of addedTokensOf(json)) pieces[t.id] = t.content;
  return pieces;
}

/** tokenizer_config.json writes special tokens as a string or as {content: string, ...}. */
export function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as Json).content === "string")
    return (value as Json).content as string;
  return undefined;
}

/** chat_template may be a string or a list of named templates; "default" wins, else the first. */
export function chatTemplateOf(config: Json): string | undefined {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t.filter(
      (x): x is { name: unknown; template: string } => !!x && typeof (x as Json).template === "string",
    );
    return (named.find((x) => x.name === "default") ?? named[0])?.template;
  }
  return undefined;
}

/** Every decoder in a (possibly nested) Sequence. */
export function decoderSteps(decoder: unknown): Json[] {
  if (!decoder || typeof decoder !== "object") return [];
  const d = decoder as Json;
  if (d.type === "Sequence" && Array.isArray(d.decoders)) return d.decoders.flatMap(decoderSteps);
  return [d];
}
