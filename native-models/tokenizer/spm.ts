import { endOfGenerationIds, END_OF_GENERATION_TEXTS } from "./end-of-generation.js";
import { addedToken, bpeModel, cleanPieces, templatePostProcessor, vocabObject } from "./tokenizer-json.js";
import { TokenType, type AddedTokenJson, type TokenizerJson, type TokenizerMeta } from "./types.js";

// A SentencePiece (BPE, byte fallback) vocabulary, as GGUF `llama` and llama2.c store it, written as a
// Hugging Face BPE tokenizer.json that tokenizes exactly like llama.cpp's SPM tokenizer.

export const SPIECE_SPACE = "\u2581";

export interface SpmVocab {
  tokens: readonly string[];
  scores: readonly number[];
  /** TokenType per id; missing means normal. */
  types?: readonly number[];
  addSpacePrefix: boolean;
  bos?: number;
  eos?: number;
  eot?: number;
  eom?: number;
  unk?: number;
  addBos: boolean;
  addEos: boolean;
}

/**
 * llama.cpp's SPM tokenizer starts from single characters and repeatedly merges the adjacent pair whose
 * concatenation is a vocabulary piece with the highest score (leftmost on ties). A BPE merge list
 * reproduces that when it holds every split of every piece into two parts that can be symbols (a
 * piece, or a single character), ranked by the merged piece's score. Equal scores (Llama's runs of
 * U+2581 all score -1e9) are ranked longer-left-part first, so runs grow from the left as they do in
 * llama.cpp. Same idea as transformers' SentencePieceExtractor, which only lists piece+piece splits.
 */
export function spmMerges(pieces: readonly string[], scores: readonly number[]): [string, string][] {
  // Each piece's id (the last, as in the vocabulary): a Map, since looking sliced strings up in an
  // object interns each of them first.
  const known = new Map<string, number>();
  for (let id = 0; id < pieces.length; id++) known.set(pieces[id], id);
  // Each split as numbers (piece, code points left of it, UTF-16 offset), its strings made once
  // sorted: an import builds this for every SPM model (Llama's 32000 pieces give ~10^5 splits to
  // look up), and keeping every candidate's strings cost more than the lookups.
  const ids: number[] = [];
  const leftLen: number[] = [];
  const at: number[] = [];
  const bounds: number[] = [];
  for (let id = 0; id < pieces.length; id++) {
    const piece = pieces[id];
    if (known.get(piece) !== id) continue; // shadowed duplicate: llama.cpp only sees the last id
    const n = codePointBounds(piece, bounds) - 1;
    if (n < 2) continue;
    for (let k = 1; k < n; k++) {
      if (k !== 1 && !known.has(piece.slice(0, bounds[k]))) continue;
      if (k !== n - 1 && !known.has(piece.slice(bounds[k]))) continue;
      ids.push(id);
      leftLen.push(k);
      at.push(bounds[k]);
    }
  }
  const score = (i: number) => scores[ids[i]] ?? 0;
  const order = Array.from({ length: ids.length }, (_, i) => i);
  order.sort((a, b) => score(b) - score(a) || leftLen[b] - leftLen[a] || ids[a] - ids[b]);
  return order.map((i) => {
    const piece = pieces[ids[i]];
    return [piece.slice(0, at[i]), piece.slice(at[i])];
  });
}

/** UTF-16 offsets of every code point boundary, including 0 and the length, into `out`; returns their count. */
function codePointBounds(s: string, out: number[]): number {
  let n = 0;
  out[n++] = 0;
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    out[n++] = i;
  }
  return n;
}

/** Control and unknown tokens are special (only matched in text on request); user-defined ones always are. */
/**
 * llama.cpp runs SPM merges over the whole text at once. When no piece has U+2581 right after another
 * character (true for Llama and stories260K: U+2581 only starts pieces or forms runs of itself), no
 * merge can cross the start of a "▁*word" chunk, so splitting there gives the same ids while letting
 * the BPE work word by word (and cache words): ~10x faster on long texts. Otherwise no split.
 */
export function spaceSplitIsExact(pieces: readonly string[]): boolean {
  for (const p of pieces) {
    for (let i = p.indexOf(SPIECE_SPACE, 1); i > 0; i = p.indexOf(SPIECE_SPACE, i + 1)) {
      if (p[i - 1] !== SPIECE_SPACE) return false;
    }
  }
  return true;
}

export const SPACE_SPLIT = {
  type: "Split",
  pattern: { Regex: `${SPIECE_SPACE}*[^${SPIECE_SPACE}]+|${SPIECE_SPACE}+` },
  behavior: "Isolated",
  invert: false,
};

export function spmAddedTokens(
  pieces: readonly string[],
  types: readonly number[] | undefined,
): AddedTokenJson[] {
  const added: AddedTokenJson[] = [];
  for (let id = 0; id < pieces.length; id++) {
    const type = types?.[id] ?? TokenType.normal;
    // llama.cpp forces known end-of-turn texts to control, whatever the file says.
    const control =
      type === TokenType.control || type === TokenType.unknown || END_OF_GENERATION_TEXTS.has(pieces[id]);
    if (control) added.push(addedToken(id, pieces[id], true));
    else if (type === TokenType.userDefined) added.push(addedToken(id, pieces[id], false));
  }
  return added;
}

export function buildSpmTokenizer(
  v: SpmVocab,
  origin: TokenizerMeta["origin"],
): { json: TokenizerJson; meta: TokenizerMeta } {
  const pieces = cleanPieces(v.tokens);
  const vocab = vocabObject(pieces);
  const replaceSpace = { type: "Replace", pattern: { String: " " }, content: SPIECE_SPACE };
  const normalizer = v.addSpacePrefix
    ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: SPIECE_SPACE }, replaceSpace] }
    : replaceSpace;
  const decoders: unknown[] = [
    { type: "Replace", pattern: { String: SPIECE_SPACE }, content: " " },
    { type: "ByteFallback" },
    { type: "Fuse" },
  ];
  if (v.addSpacePrefix) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });
  const bosToken = v.bos !== undefined ? pieces[v.bos] : undefined;
  const eosToken = v.eos !== undefined ? pieces[v.eos] : undefined;
  const json: TokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: spmAddedTokens(pieces, v.types),
    normalizer,
    pre_tokenizer: spaceSplitIsExact(pieces) ? SPACE_SPLIT : null,
    post_processor: templatePostProcessor(
      v.addBos ? bosToken : undefined,
      v.bos,
      v.addEos ? eosToken : undefined,
      v.eos,
    ),
    decoder: { type: "Sequence", decoders },
    model: bpeModel(vocab, spmMerges(pieces, v.scores), {
      unk: v.unk !== undefined ? pieces[v.unk] : null,
      byteFallback: true,
      ignoreMerges: false,
    }),
  };
  const meta: TokenizerMeta = {
    version: 1,
    origin,
    decode: "spm",
    stripLeadingSpace: v.addSpacePrefix,
    bos: v.bos,
    eos: endOfGenerationIds([v.eos, v.eot, v.eom], pieces),
    unk: v.unk,
    addBos: v.addBos && v.bos !== undefined,
    addEos: v.addEos && v.eos !== undefined,
    bosToken,
    eosToken,
  };
  return { json, meta };
}
