import type { AddedTokenJson, TokenizerJson } from "./types.js";

// Pieces shared by the SentencePiece and byte-level builders.

/** llama.cpp renames empty pieces so every id keeps a distinct, non-empty text. */
export function cleanPieces(tokens: readonly string[]): string[] {
  return tokens.map((t, i) => (t === "" ? `[EMPTY_${i}]` : t));
}

/**
 * piece -> id. When a piece occurs twice the later id wins, as in llama.cpp's token_to_id.
 * A prototype-free object, so pieces such as "__proto__" or "constructor" are ordinary keys.
 */
export function vocabObject(pieces: readonly string[]): Record<string, number> {
  const vocab = Object.create(null) as Record<string, number>;
  for (let id = 0; id < pieces.length; id++) vocab[pieces[id]] = id;
  return vocab;
}

export function addedToken(id: number, content: string, special: boolean): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** BOS/EOS framing in tokenizer.json terms, for libraries that honour add_special_tokens. */
export function templatePostProcessor(
  bos: string | undefined,
  bosId: number | undefined,
  eos: string | undefined,
  eosId: number | undefined,
): unknown {
  const single: unknown[] = [];
  const special: Record<string, unknown> = {};
  if (bos !== undefined && bosId !== undefined) {
    single.push({ SpecialToken: { id: bos, type_id: 0 } });
    special[bos] = { id: bos, ids: [bosId], tokens: [bos] };
  }
  single.push({ Sequence: { id: "A", type_id: 0 } });
  if (eos !== undefined && eosId !== undefined) {
    single.push({ SpecialToken: { id: eos, type_id: 0 } });
    special[eos] = { id: eos, ids: [eosId], tokens: [eos] };
  }
  if (single.length === 1) return null;
  const pair = [...single, ...single.map((item) => retype(item))];
  return { type: "TemplateProcessing", single, pair, special_tokens: special };
}

function retype(item: unknown): unknown {
  const o = item as { SpecialToken?: { id: string }; Sequence?: { id: string } };
  if (o.SpecialToken) return { SpecialToken: { id: o.SpecialToken.id, type_id: 1 } };
  return { Sequence: { id: "B", type_id: 1 } };
}

export function bpeModel(
  vocab: Record<string, number>,
  merges: [string, string][],
  opts: { unk: string | null; byteFallback: boolean; ignoreMerges: boolean },
): TokenizerJson["model"] {
  return {
    type: "BPE",
    dropout: null,
    unk_token: opts.unk,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: opts.byteFallback,
    byte_fallback: opts.byteFallback,
    ignore_merges: opts.ignoreMerges,
    vocab,
    merges,
  };
}
