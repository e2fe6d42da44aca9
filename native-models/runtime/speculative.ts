// Lossless speculative decoding without a second model. Each round proposes a few tokens cheaply,
// runs them all through the full model in one batched pass, and keeps the longest prefix the full
// model agrees with (greedy: identical output; with sampling, speculative sampling keeps the
// distribution, see Sampler.verifyDraft). On a CPU a pass over several rows costs little more
// than over one, because decoding is bound by reading the weights, so every accepted draft is
// nearly free. Proposals come from
//   - prompt lookup: the tokens that followed the latest earlier occurrence of the text's current
//     ending (the prompt and the answer so far), free to compute;
//   - where the text offers no match, the model's own habits (DraftTable: what it chose after the
//     last two tokens in its calibration text), as free; and
//   - self-drafting (LayerSkip, Kangaroo): the model's own first layers, an exit head and the
//     shortlist head, chained while the draft is confident; the drafts' K/V of the shallow layers
//     are reused by the verification.
// Draft lengths adapt online (as DEL does) to the acceptance seen so far and to the measured cost
// of a pass over n rows.
import type { Decoder } from "./decoder.js";
import type { DraftTable } from "./draft-table.js";
import type { Sampler } from "./sampler.js";
import type { TokenConstraint } from "./grammar/token-constraint.js";

export interface SelfDraft {
  /** Layers a draft runs (1..L-1). */
  layers: number;
  /** The exit head's guess after `layers` layers and its probability. */
  propose(hidden: Float32Array): { token: number; confidence: number };
  /** Draft only while the guess's probability is at least this. */
  minConfidence: number;
}

export interface SpeculationOptions {
  /** Most tokens proposed per round. */
  maxDraft?: number;
  /** Shortest text ending a lookup may match (tokens). */
  minMatch?: number;
  selfDraft?: SelfDraft | null;
  /** The model's calibration-text habits, tried where prompt lookup finds nothing. */
  table?: DraftTable | null;
}

export interface RoundResult {
  /** The tokens this round produced, in order (accepted drafts, then the full model's own token). */
  tokens: number[];
  /** How many of `tokens` came from drafts. */
  accepted: number;
  /** Tokens proposed this round. */
  proposed: number;
  /** Logits rows of the verification pass that produced the last token (for telemetry). */
  rows: number;
}

/** Online estimate of a pass's cost as a + b·rows, and of the drafts' acceptance by source. */
class Stats {
  private n = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  /**
   * Per-token acceptance (the chance the next draft token is right, given the previous was) of
   * lookup drafts by the length of the matched text ending (index 1..MAX_MATCH), of self-drafts
   * (0) and of table drafts (TABLE_SOURCE). The priors only matter for the first rounds.
   */
  readonly acceptance = [0.5, 0.3, 0.4, 0.5, 0.65, 0.75, 0.8, 0.85, 0.9, 0.6];

  notePass(rows: number, ms: number): void {
    const decay = 0.98;
    this.n = this.n * decay + 1;
    this.sx = this.sx * decay + rows;
    this.sy = this.sy * decay + ms;
    this.sxx = this.sxx * decay + rows * rows;
    this.sxy = this.sxy * decay + rows * ms;
  }

  noteDraft(source: number, proposed: number, accepted: number): void {
    // Each proposed token is a trial until the first rejection.
    const trials = Math.min(proposed, accepted + 1);
    for (let i = 0; i < trials; i++)
      this.acceptance[source] = 0.95 * this.acceptance[source] + 0.05 * (i < accepted ? 1 : 0);
  }

  /** Extra cost of one more row, relative to a one-row pass (prior 0.25 until measured). */
  get rowCost(): number {
    const varx = this.sxx / Math.max(1e-9, this.n) - (this.sx / Math.max(1e-9, this.n)) ** 2;
    if (this.n < 4 || varx < 0.25) return 0.25;
    const b = (this.sxy / this.n - (this.sx / this.n) * (this.sy / this.n)) / varx;
    const a = this.sy / this.n - b * (this.sx / this.n);
    return Math.min(2, Math.max(0.02, b / Math.max(1e-6, a + b)));
  }

  /** The draft length (0..max) with the most expected tokens per unit of cost, for drafts from `source`. */
  bestLength(source: number, max: number): number {
    let best = 0;
    let bestRate = 1;
    const r = this.rowCost;
    const a = this.acceptance[source];
    for (let k = 1; k <= max; k++) {
      let expected = 0;
      for (let i = 0; i <= k; i++) expected += a ** i;
      const rate = expected / (1 + r * k);
      if (rate > bestRate) {
        bestRate = rate;
        best = k;
      }
    }
    return best;
  }
}

export class Speculator {
  private readonly stats = new Stats();
  private readonly maxDraft: number;
  private readonly minMatch: number;
  private logitsBuffer = new Float32Array(0);

  constructor(
    private readonly decoder: Decoder,
    private readonly o: SpeculationOptions = {},
  ) {
    this.maxDraft = o.maxDraft ?? 8;
    this.minMatch = o.minMatch ?? 2;
  }

  /** Where a round's logits go: one array for every round (read before the next). */
  private logitsRows(rows: number): Float32Array {
    const V = this.decoder.runner.config.vocabSize;
    if (this.logitsBuffer.length < rows * V) this.logitsBuffer = new Float32Array(rows * V);
    return this.logitsBuffer.subarray(0, rows * V);
  }

  /**
   * One round: `token` (already chosen, not yet run) plus proposals go through the full model
   * together; returns the tokens that follow `token`. The decoder then holds `token` and the
   * accepted drafts, nothing pending. Under a `constraint` (which has taken `token` already) each
   * row is masked before it is judged, so a draft the grammar forbids has probability 0 and is
   * rejected, and every token the round returns has been accepted by the constraint.
   */
  async round(
    token: number,
    sampler: Sampler,
    recent: number[],
    budget: number,
    signal?: AbortSignal,
    constraint?: TokenConstraint | null,
  ): Promise<RoundResult> {
    const d = this.decoder;
    const start = d.length;
    const room = Math.min(budget - 1, d.runner.maxPositions - start - 1, this.maxDraft);
    const context = [...d.tokens, token];
    let drafts: number[] = [];
    const found = room > 0 ? promptLookup(context, this.minMatch, room) : { tokens: [], match: 0 };
    // Free drafts (no layer runs to make them): the text's own continuation, else the model's habits.
    let source = found.match;
    let free = found.tokens.slice(0, this.stats.bestLength(source, found.tokens.length));
    if (!free.length && this.o.table && room > 0) {
      const habits = this.o.table.draft(context, room);
      source = TABLE_SOURCE;
      free = habits.slice(0, this.stats.bestLength(source, habits.length));
    }
    const self = this.o.selfDraft;
    if (free.length) {
      drafts = free;
      d.appendUnprocessed([token, ...drafts]);
    } else if (self && room > 0) {
      // Chain shallow drafts while the exit head is confident; each accepted guess is run through
      // the shallow layers in turn, so every proposal has its first layers done before verification.
      let next = token;
      for (;;) {
        const h = await d.draft(next, self.layers, signal);
        const guess = self.propose(h);
        if (drafts.length >= room || guess.confidence < self.minConfidence) break;
        drafts.push(guess.token);
        next = guess.token;
      }
    } else {
      d.appendUnprocessed([token]);
    }

    const t = performance.now();
    const { hidden } = await d.complete(signal);
    const rows = drafts.length + 1;
    const logits = await d.runner.logits(hidden, rows, this.logitsRows(rows));
    this.stats.notePass(rows, performance.now() - t);

    const V = d.runner.config.vocabSize;
    const tokens: number[] = [];
    const seen = [...recent];
    let accepted = 0;
    for (let i = 0; i < rows; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      if (constraint) await constraint.mask(row);
      if (i < drafts.length) {
        const r = sampler.verifyDraft(row, seen, drafts[i]);
        constraint?.accept(r.token);
        tokens.push(r.token);
        seen.push(r.token);
        if (!r.accepted) break;
        accepted++;
        // A drafted end of text (prompt lookup copies it from earlier turns) ends the answer: the
        // grammar has nothing to say about the rows after it.
        if (constraint?.ended) break;
      } else {
        const token = sampler.sample(row, seen);
        constraint?.accept(token);
        tokens.push(token);
      }
    }
    if (free.length) this.stats.noteDraft(source, drafts.length, accepted);
    else if (drafts.length) this.stats.noteDraft(0, drafts.length, accepted);
    d.truncate(start + 1 + accepted);
    return { tokens, accepted, proposed: drafts.length, rows };
  }
}

/** Longest text ending prompt lookup matches; longer matches predict better (acceptance is kept per length). */
export const MAX_MATCH = 8;
/** The acceptance statistics' slot for table drafts. */
const TABLE_SOURCE = MAX_MATCH + 1;

/**
 * The tokens that followed the latest earlier occurrence of the longest ending of `context` (at
 * least `minMatch` tokens, at most MAX_MATCH) — "prompt lookup decoding" — up to `max` of them, and
 * the length of the ending matched.
 */
export function promptLookup(
  context: readonly number[],
  minMatch: number,
  max: number,
): { tokens: number[]; match: number } {
  const n = context.length;
  let bestLen = 0;
  let bestEnd = -1;
  for (let end = n - 2; end >= 0 && bestLen < MAX_MATCH; end--) {
    const cap = Math.min(MAX_MATCH, end + 1);
    let len = 0;
    while (len < cap && context[end - len] === context[n - 1 - len]) len++;
    if (len > bestLen) {
      bestLen = len;
      bestEnd = end;
    }
  }
  if (bestLen < minMatch) return { tokens: [], match: 0 };
  return { tokens: context.slice(bestEnd + 1, Math.min(n, bestEnd + 1 + max)), match: bestLen };
}
