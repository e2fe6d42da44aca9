// What a step over several new tokens costs next to a one-token step, at this model's size: per
// decoder layer (all layers of the step, divided by their number) and for the LM head, for 1, 2, 4
// and 8 rows. On a CPU batch-1 decode is bound by reading the weights, so extra rows should cost
// far less than extra steps; this is what lossless decoding and exact deferred K/V rest on.
import type { LoadedModel } from "../engine/loaded-model.js";
import { median } from "./bench-text.js";

export const MULTI_TOKEN_ROWS = [1, 2, 4, 8] as const;

export interface MultiTokenCost {
  /** Median milliseconds per decoder layer for a step of n new tokens. */
  layer: Record<string, number>;
  /** Median milliseconds of the LM head over n rows. */
  head: Record<string, number>;
}

/** Each row count is repeated until ~1.5 s or 15 repetitions, whichever comes first (at least 3). */
export async function measureMultiToken(
  model: LoadedModel,
  prompt: readonly number[],
): Promise<MultiTokenCost> {
  const d = model.decoder;
  const r = model.runner;
  d.reset();
  await d.prefill(prompt.slice(0, Math.min(prompt.length, 64)));
  const base = d.length;
  const out: MultiTokenCost = { layer: {}, head: {} };
  for (const n of MULTI_TOKEN_ROWS) {
    const ids = prompt.slice(0, n);
    const layerMs: number[] = [];
    const headMs: number[] = [];
    const until = performance.now() + 1500;
    while (layerMs.length < 3 || (layerMs.length < 15 && performance.now() < until)) {
      d.appendUnprocessed(ids);
      const t = performance.now();
      const { hidden } = await d.complete();
      const t1 = performance.now();
      await r.logits(hidden, n);
      headMs.push(performance.now() - t1);
      layerMs.push((t1 - t) / r.layers);
      d.truncate(base);
    }
    out.layer[n] = round3(median(layerMs));
    out.head[n] = round3(median(headMs));
  }
  d.reset();
  return out;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
