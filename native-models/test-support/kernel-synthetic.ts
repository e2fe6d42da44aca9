// Seeded synthetic FFN weights and inputs for tests and the benchmark: Gaussian weights (std 0.02,
// like an initialised Llama layer) and an input with RMS 1, as RMSNorm leaves it before the FFN.
import type { SparseFfnWeights } from "../kernels/types.js";
import { seededRandom } from "../runtime/sampler.js";

/** mulberry32: tiny, reproducible from a seed (the engine's sampler generator). */
const uniform = seededRandom;

export function gaussian(n: number, std: number, seed: number): Float32Array {
  const next = uniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next())) * std;
    const phi = 2 * Math.PI * next();
    out[i] = r * Math.cos(phi);
    if (i + 1 < n) out[i + 1] = r * Math.sin(phi);
  }
  return out;
}

export function randomFfn(d: number, ffn: number, seed = 1, std = 0.02): SparseFfnWeights {
  return {
    d,
    ffn,
    gate: gaussian(d * ffn, std, seed),
    up: gaussian(d * ffn, std, seed + 1),
    down: gaussian(d * ffn, std, seed + 2),
  };
}

/** A Gaussian vector rescaled to RMS exactly 1. */
export function randomInput(d: number, seed: number): Float32Array {
  const x = gaussian(d, 1, seed);
  const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / d);
  return x.map((v) => v / rms);
}

/**
 * Threshold on |SiLU(gate)| that leaves about `activeFraction` of the neurons active: the midpoint
 * between two neighbouring observed values, so no neuron sits exactly on it (a tie would be decided
 * by float rounding, differently in float32 and float64 code).
 */
export function thresholdFor(activations: Float32Array[], activeFraction: number): number {
  if (activeFraction >= 1) return 0;
  const all = Float32Array.from(activations.flatMap((a) => Array.from(a, Math.abs))).sort();
  const i = Math.min(all.length - 1, Math.floor(all.length * (1 - activeFraction)));
  return i === 0 ? all[0] / 2 : (all[i - 1] + all[i]) / 2;
}

/** ‖a - b‖ / ‖b‖. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
