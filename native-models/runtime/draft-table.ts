// Drafts from the model's own habits: after a two-token (or, failing that, one-token) context,
// the token the full model chose there in its calibration text, teacher-forced at full depth.
// Prompt lookup only finds text the conversation already holds; this table carries the phrases the
// model writes everywhere ("and the LORD said unto", "Once upon a time, there was"). Drafting from
// it costs a map lookup, and a wrong draft only an extra verification row, so it is used where the
// text offers no lookup match. Only contexts whose choice was consistent there are kept.
import { z } from "zod";

export const DraftTableSchema = z.object({
  /** (a, b, next) triples, flattened: after the tokens a b, the model chose `next`. */
  pairs: z.array(z.number().int().min(0)),
  /** (a, next) pairs, flattened: one-token contexts, used where the two-token one is not kept. */
  singles: z.array(z.number().int().min(0)),
});
export type DraftTableData = z.infer<typeof DraftTableSchema>;

/** A context is kept when its most frequent choice was seen this often... */
const MIN_COUNT = 2;
/** ...and made up this share of its occurrences. */
const MIN_SHARE = 0.6;

export class DraftTable {
  private constructor(
    private readonly pairs: Map<number, number>,
    private readonly singles: Map<number, number>,
    private readonly vocab: number,
  ) {}

  /**
   * From sequences and, per position, the full model's choice of the token after it
   * (`next[j]` follows ids[0..j]).
   */
  static build(sequences: { ids: readonly number[]; next: ArrayLike<number> }[], vocab: number): DraftTable {
    const pairCounts = new Map<number, Map<number, number>>();
    const singleCounts = new Map<number, Map<number, number>>();
    const count = (m: Map<number, Map<number, number>>, key: number, next: number) => {
      let e = m.get(key);
      if (!e) m.set(key, (e = new Map()));
      e.set(next, (e.get(next) ?? 0) + 1);
    };
    for (const { ids, next } of sequences) {
      for (let j = 0; j < ids.length && j < next.length; j++) {
        if (j > 0) count(pairCounts, ids[j - 1] * vocab + ids[j], next[j]);
        count(singleCounts, ids[j], next[j]);
      }
    }
    return new DraftTable(consistent(pairCounts), consistent(singleCounts), vocab);
  }

  static fromData(data: DraftTableData, vocab: number): DraftTable {
    const pairs = new Map<number, number>();
    const singles = new Map<number, number>();
    for (let i = 0; i + 2 < data.pairs.length; i += 3)
      pairs.set(data.pairs[i] * vocab + data.pairs[i + 1], data.pairs[i + 2]);
    for (let i = 0; i + 1 < data.singles.length; i += 2) singles.set(data.singles[i], data.singles[i + 1]);
    return new DraftTable(pairs, singles, vocab);
  }

  toData(): DraftTableData {
    const pairs: number[] = [];
    for (const [key, next] of this.pairs) pairs.push(Math.floor(key / this.vocab), key % this.vocab, next);
    const singles: number[] = [];
    for (const [a, next] of this.singles) singles.push(a, next);
    return { pairs, singles };
  }

  get size(): number {
    return this.pairs.size + this.singles.size;
  }

  /** Up to `max` tokens after `context`, each chosen from the table given the ones before it. */
  draft(context: readonly number[], max: number): number[] {
    const out: number[] = [];
    let a = context.length > 1 ? context[context.length - 2] : -1;
    let b = context.length > 0 ? context[context.length - 1] : -1;
    while (out.length < max && b >= 0) {
      const next = (a >= 0 ? this.pairs.get(a * this.vocab + b) : undefined) ?? this.singles.get(b);
      if (next === undefined) break;
      out.push(next);
      a = b;
      b = next;
    }
    return out;
  }
}

function consistent(counts: Map<number, Map<number, number>>): Map<number, number> {
  const kept = new Map<number, number>();
  for (const [key, nexts] of counts) {
    let total = 0;
    let best = -1;
    let bestCount = 0;
    for (const [next, c] of nexts) {
      total += c;
      if (c > bestCount) [best, bestCount] = [next, c];
    }
    if (bestCount >= MIN_COUNT && bestCount >= MIN_SHARE * total) kept.set(key, best);
  }
  return kept;
}
