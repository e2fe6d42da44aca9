// The speed/accuracy knob, 0 (exact) .. 1 (fastest), and what each position means on a calibrated
// model: per-layer early-exit thresholds (interpolated on the calibrated grid) and the FFN
// sparsity level. The one place that maps the knob; calibration measures the grid it reads.
import type { SparsityTable } from "./native-layers.js";

/** Knob values calibration sets exit thresholds at. */
export const KNOB_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/** What the exit thresholds are read from (an exit policy, see early-exit/policy.ts). */
export interface ExitThresholdGrid {
  checkLayers: readonly number[];
  /** minConfidence[layer][i]: the threshold at KNOB_GRID[i] (> 1: never exits there). */
  minConfidence: Readonly<Record<string, readonly number[]>>;
}

/** The exit threshold for `layer` at `knob`; Infinity when the layer never exits. */
export function minConfidenceAt(grid: ExitThresholdGrid, layer: number, knob: number): number {
  return onGrid(grid.minConfidence[String(layer)], knob);
}

/** Layers where a token may exit at `knob`, with their thresholds (none at knob 0). */
export function exitThresholds(grid: ExitThresholdGrid, knob: number): Map<number, number> {
  const thresholds = new Map<number, number>();
  if (!(knob > 0)) return thresholds;
  for (const layer of grid.checkLayers) {
    const t = minConfidenceAt(grid, layer, knob);
    if (t <= 1) thresholds.set(layer, t);
  }
  return thresholds;
}

/** Agreement the FFN sparsity must keep at knob κ: 0.5 → 97%, 1 → 94%. */
export function sparsityTarget(knob: number): number {
  return 1 - 0.06 * knob;
}

/**
 * Share of FFN neurons skipped at knob κ: the sparsest measured level that keeps the target and
 * was measured faster than dense FFNs (on small models the dense kernels win: then never).
 */
export function sparsityForKnob(knob: number, table: SparsityTable | undefined): number {
  if (!(knob > 0) || !table?.agreement) return 0;
  let best = 0;
  table.levels.forEach((level, i) => {
    const agreement = table.agreement![i];
    const fast = (table.speedup?.[i] ?? 0) > 1.02;
    if (agreement !== null && agreement >= sparsityTarget(knob) && fast) best = Math.max(best, level);
  });
  return best;
}

/** Some knob position uses sparse FFNs on this model (the model then needs its per-neuron rows). */
export function knobUsesSparsity(table: SparsityTable | undefined): boolean {
  return sparsityForKnob(1, table) > 0;
}

/** The row's value at `knob`, interpolated on KNOB_GRID; Infinity (never) without a row. */
function onGrid(row: readonly number[] | undefined, knob: number): number {
  if (!row) return Infinity;
  if (knob <= KNOB_GRID[0]) return row[0];
  for (let i = 1; i < KNOB_GRID.length; i++) {
    if (knob <= KNOB_GRID[i]) {
      const t = (knob - KNOB_GRID[i - 1]) / (KNOB_GRID[i] - KNOB_GRID[i - 1]);
      return row[i - 1] + t * (row[i] - row[i - 1]);
    }
  }
  return row[row.length - 1];
}
