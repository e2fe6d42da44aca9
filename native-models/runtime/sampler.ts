// Token sampling: greedy at temperature 0, otherwise repetition penalty -> temperature -> top-k ->
// top-p -> min-p over the surviving candidates, with a seeded generator for reproducible runs.

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  /** How many recent tokens the repetition penalty looks at (llama.cpp's default is 64). */
  repetitionWindow?: number;
  seed?: number | null;
}

export const DEFAULT_SAMPLING: SamplingParams = {
  temperature: 0.7,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repetitionPenalty: 1.1,
  repetitionWindow: 64,
  seed: null,
};

/** mulberry32: tiny, fast, good enough for sampling, and reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array, offset = 0, length = logits.length - offset): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i];
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

export class Sampler {
  private readonly random: () => number;

  constructor(private readonly p: SamplingParams) {
    this.random = seededRandom(p.seed ?? (Math.random() * 2 ** 32) >>> 0);
  }

  /** Picks the next token; `recent` are the latest tokens of the sequence (for the repetition penalty). */
  sample(logits: Float32Array, recent: readonly number[]): number {
    const { ids, probs } = this.distribution(logits, recent);
    return draw(ids, probs, this.random());
  }

  /**
   * Speculative sampling for a drafted token (a deterministic drafter: its proposal is a point
   * mass): accepted with the target probability p(draft); otherwise the token comes from p with
   * the draft removed. The emitted tokens are distributed exactly as sample() would draw them;
   * at temperature 0 this is "accept iff the draft is the argmax".
   */
  verifyDraft(
    logits: Float32Array,
    recent: readonly number[],
    draft: number,
  ): { accepted: boolean; token: number } {
    const { ids, probs } = this.distribution(logits, recent);
    const at = ids.indexOf(draft);
    const p = at >= 0 ? probs[at] : 0;
    if (p >= 1 || (p > 0 && this.random() < p)) return { accepted: true, token: draft };
    if (at >= 0) probs[at] = 0;
    return { accepted: false, token: draw(ids, probs, this.random()) };
  }

  /**
   * The distribution sample() draws from: candidate ids and their probabilities, best first when
   * top-k or top-p needs the order (sorting a whole vocabulary per token is what sampling cost most).
   */
  distribution(logits: Float32Array, recent: readonly number[]): { ids: number[]; probs: Float64Array } {
    const { temperature, repetitionPenalty } = this.p;
    if (repetitionPenalty !== 1 && recent.length)
      logits = penalise(logits, recent.slice(-(this.p.repetitionWindow ?? 64)), repetitionPenalty);
    if (temperature <= 0) return { ids: [argmax(logits)], probs: Float64Array.of(1) };

    // Candidates: top-k, or (k = 0) everything within e^-30 of the best, which loses nothing
    // measurable and keeps a 150k vocabulary cheap.
    const maxLogit = logits[argmax(logits)];
    const k = this.p.topK > 0 ? this.p.topK : logits.length;
    if (this.p.topP >= 1 && k >= logits.length)
      return unsortedCandidates(logits, maxLogit, temperature, this.p.minP);
    const ids = topIds(logits, this.p.topK > 0 ? this.p.topK : logits.length, maxLogit - 30 * temperature);
    const probs = new Float64Array(ids.length);
    let sum = 0;
    for (let i = 0; i < ids.length; i++) {
      probs[i] = Math.exp((logits[ids[i]] - maxLogit) / temperature);
      sum += probs[i];
    }
    for (let i = 0; i < probs.length; i++) probs[i] /= sum;

    // top-p: the smallest prefix (ids are sorted by probability) whose mass reaches topP.
    let keep = ids.length;
    if (this.p.topP < 1) {
      let mass = 0;
      for (let i = 0; i < ids.length; i++) {
        mass += probs[i];
        if (mass >= this.p.topP) {
          keep = i + 1;
          break;
        }
      }
    }
    // min-p: drop candidates below minP times the top probability.
    if (this.p.minP > 0) {
      const floor = probs[0] * this.p.minP;
      while (keep > 1 && probs[keep - 1] < floor) keep--;
    }
    const kept = probs.subarray(0, keep);
    let total = 0;
    for (let i = 0; i < keep; i++) total += kept[i];
    for (let i = 0; i < keep; i++) kept[i] /= total;
    return { ids: ids.slice(0, keep), probs: kept };
  }
}

/** Every token within e^-30 of the best (and within min-p of it), in id order, with its probability. */
function unsortedCandidates(
  logits: Float32Array,
  maxLogit: number,
  temperature: number,
  minP: number,
): { ids: number[]; probs: Float64Array } {
  // min-p keeps p ≥ minP·p_max, that is logit ≥ max + T·ln(minP).
  const floor = maxLogit + temperature * Math.max(-30, minP > 0 ? Math.log(minP) : -30);
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
  const probs = new Float64Array(ids.length);
  let sum = 0;
  for (let i = 0; i < ids.length; i++) sum += probs[i] = Math.exp((logits[ids[i]] - maxLogit) / temperature);
  for (let i = 0; i < probs.length; i++) probs[i] /= sum;
  return { ids, probs };
}

/** A draw from `probs` (not necessarily normalised) with the uniform number `u`. */
function draw(ids: readonly number[], probs: Float64Array, u: number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  let r = u * total;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    last = i;
    r -= probs[i];
    if (r <= 0) return ids[i];
  }
  return ids[last];
}

function penalise(logits: Float32Array, recent: readonly number[], penalty: number): Float32Array {
  const out = logits.slice();
  for (const id of new Set(recent)) {
    if (id < 0 || id >= out.length) continue;
    out[id] = out[id] > 0 ? out[id] / penalty : out[id] * penalty;
  }
  return out;
}

/** Ids of the k largest logits above `floor`, sorted by logit descending. */
export function topIds(logits: Float32Array, k: number, floor = -Infinity): number[] {
  if (k >= 512) {
    const ids: number[] = [];
    for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
    ids.sort((a, b) => logits[b] - logits[a]);
    return ids.length > k ? ids.slice(0, k) : ids;
  }
  // Small k: keep a sorted window of the best k seen so far (one comparison per logit).
  const ids: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v < floor || (ids.length === k && v <= vals[k - 1])) continue;
    let j = ids.length === k ? k - 1 : ids.length;
    while (j > 0 && vals[j - 1] < v) {
      vals[j] = vals[j - 1];
      ids[j] = ids[j - 1];
      j--;
    }
    vals[j] = v;
    ids[j] = i;
  }
  return ids;
}
