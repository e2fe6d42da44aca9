// Speculative candidates: the k tokens the current token's output is likely to be, known before
// the deep layers run, so that each exit check needs only k rows of the LM head.
//   draft-layer: the top-k of the full LM head at one early layer of the same token;
//   ngram:       prompt lookup — tokens that followed earlier occurrences of the last two tokens.
import { topIds } from "../runtime/sampler.js";

export function draftCandidates(logits: Float32Array, k: number): number[] {
  return topIds(logits, k);
}

/**
 * Tokens that followed the most recent earlier occurrences of (history[-1], current), then of
 * `current` alone, most recent first, up to k distinct.
 */
export function ngramCandidates(history: readonly number[], current: number, k: number): number[] {
  const out: number[] = [];
  const prev = history.length ? history[history.length - 1] : -1;
  const seq = history.length;
  // Positions i with history[i] === current (and history[i-1] === prev for the bigram pass); the
  // candidate is what came next: history[i+1], or `current` itself at the end of history.
  const next = (i: number) => (i + 1 < seq ? history[i + 1] : current);
  for (const needBigram of [true, false]) {
    for (let i = seq - 1; i >= 0 && out.length < k; i--) {
      if (history[i] !== current) continue;
      if (needBigram && (i === 0 || history[i - 1] !== prev)) continue;
      const c = next(i);
      if (!out.includes(c)) out.push(c);
    }
  }
  return out;
}
