// Knob -> per-layer predictor thresholds, chosen on calibration data by simulating the exit rule
// (a token exits at the first checked layer whose score clears the threshold and whose argmax is
// among the candidates). For each knob value the thresholds maximise the layers saved while the
// simulated agreement with full depth stays at or above the knob's target.
//
// With exact (deferred) K/V of skipped layers the simulation is what the run does, token for token,
// on the calibration text; text unlike it is the remaining gap. Without those K/V (masked), an exit
// also changes later tokens, so errors can be weighted by the layers they leave out.

export interface LayerDecisions {
  layer: number;
  /** Out-of-fold predictor score per calibration position. */
  scores: Float32Array;
  /** The layer's argmax is among the candidates (verification passes). */
  verified: Uint8Array;
  /** The layer's argmax equals the full-depth token. */
  correct: Uint8Array;
}

/**
 * Overall agreement the thresholds must keep on calibration text at knob κ: 0.5 → 98.5%, 1 → 91%,
 * linear between: above what the knob promises (97% at 0.5, 90% at 1), because on kjv16 the same
 * thresholds gave 1-1.5 points less on held-out Bible chapters than on the model's own text.
 */
export function targetAgreement(knob: number): number {
  return knob <= 0.5 ? 1 - 0.03 * knob : 0.985 - 0.15 * (knob - 0.5);
}

const NEVER = 1.01;
const STEPS = 200;

/**
 * `depthWeighted`: an error at layer l counts 1 + (L-1-l) times (for exits whose skipped layers
 * get no K/V, which hurts the tokens after them); with exact deferred K/V every error counts once.
 */
export function optimiseThresholds(
  layers: LayerDecisions[],
  totalLayers: number,
  knobs: readonly number[],
  depthWeighted = false,
): Map<number, number[]> {
  const sorted = [...layers].sort((a, b) => a.layer - b.layer);
  const n = sorted[0]?.scores.length ?? 0;
  // Per layer: verified positions by descending score, cut into at most STEPS groups; lowering a
  // layer's threshold admits the next group.
  const groups = sorted.map((d) => {
    const order = Array.from(d.scores.keys())
      .filter((i) => d.verified[i])
      .sort((a, b) => d.scores[b] - d.scores[a]);
    const size = Math.max(1, Math.ceil(order.length / STEPS));
    const out: { threshold: number; positions: number[] }[] = [];
    for (let g = 0; g < order.length; g += size) {
      let end = Math.min(order.length, g + size);
      while (end < order.length && d.scores[order[end]] === d.scores[order[end - 1]]) end++;
      if (out.length && g < out[out.length - 1].positions.length) continue;
      out.push({ threshold: d.scores[order[end - 1]], positions: order.slice(g, end) });
      g = end - size;
    }
    return out;
  });
  // exitAt[i]: index into `sorted` of the layer position i exits at, or -1 (full depth).
  const exitAt = new Int32Array(n).fill(-1);
  const level = sorted.map(() => 0);
  let saved = 0;
  let errors = 0;
  const weight = (j: number) => (depthWeighted ? 1 + Math.max(0, totalLayers - 1 - sorted[j].layer) : 1);

  /** Effect of admitting layer j's next group: positions that now exit earlier than before. */
  const delta = (j: number) => {
    let dSaved = 0;
    let dErrors = 0;
    const moved: number[] = [];
    for (const i of groups[j][level[j]].positions) {
      const cur = exitAt[i];
      if (cur !== -1 && cur <= j) continue;
      const before =
        cur === -1
          ? { saved: 0, wrong: 0 }
          : { saved: totalLayers - sorted[cur].layer, wrong: sorted[cur].correct[i] ? 0 : weight(cur) };
      dSaved += totalLayers - sorted[j].layer - before.saved;
      dErrors += (sorted[j].correct[i] ? 0 : weight(j)) - before.wrong;
      moved.push(i);
    }
    return { dSaved, dErrors, moved };
  };

  const result = new Map<number, number[]>(sorted.map((d) => [d.layer, []]));
  for (const knob of [...knobs].sort((a, b) => a - b)) {
    const budget = Math.floor((1 - targetAgreement(knob)) * n);
    for (;;) {
      let best = -1;
      let bestValue = -Infinity;
      let bestDelta: ReturnType<typeof delta> | null = null;
      for (let j = 0; j < sorted.length; j++) {
        if (level[j] >= groups[j].length) continue;
        const dl = delta(j);
        // Thresholds chosen on a sample look better on it than they will on new text: keep the
        // errors within the budget with room for their own sampling noise (about two standard deviations).
        const e = errors + dl.dErrors;
        if (e + 2 * Math.sqrt(Math.max(0, e)) > budget) continue;
        // Prefer moves that save the most layers per error they add.
        const value = dl.dSaved / (Math.max(0, dl.dErrors) + 0.5);
        if (value > bestValue) {
          bestValue = value;
          best = j;
          bestDelta = dl;
        }
      }
      if (best < 0 || !bestDelta) break;
      for (const i of bestDelta.moved) exitAt[i] = best;
      saved += bestDelta.dSaved;
      errors += bestDelta.dErrors;
      level[best]++;
    }
    sorted.forEach((d, j) =>
      result.get(d.layer)!.push(level[j] === 0 ? NEVER : groups[j][level[j] - 1].threshold),
    );
  }
  void saved;
  return result;
}
