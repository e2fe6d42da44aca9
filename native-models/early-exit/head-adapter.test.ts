import { describe, expect, it } from "vitest";
import { seededRandom } from "../runtime/sampler.js";
import { Affine } from "./head-adapter.js";
import { ExitHead, trainExitHead } from "./exit-head.js";

const d = 8;
const V = 24;
const eps = 1e-5;

function argmaxThroughHead(h: ArrayLike<number>, head: Float32Array, norm: Float32Array): number {
  let ss = 0;
  for (let i = 0; i < d; i++) ss += h[i] * h[i];
  const r = 1 / Math.sqrt(ss / d + eps);
  let best = 0;
  let bestValue = -Infinity;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += head[v * d + i] * h[i] * r * norm[i];
    if (s > bestValue) [best, bestValue] = [v, s];
  }
  return best;
}

describe("head adapters", () => {
  it("Affine computes W·x + b", () => {
    const a = new Affine({ d: 2, w: [1, 2, 3, 4, 5, 6], b: [0.5, -1] });
    expect(Array.from(a.apply([1, 0, -1]))).toEqual([1 - 3 + 0.5, 4 - 6 - 1]);
  });

  it("an exit head learns the map from a layer's state to what the last layer predicts", async () => {
    const rand = seededRandom(3);
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const head = Float32Array.from({ length: V * d }, gauss);
    const norm = Float32Array.from({ length: d }, () => 0.5 + rand());
    // The "remaining layers": a fixed linear map the exit head has to learn (identity = plain lens).
    const rest = new Affine({ d, w: Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0) + 0.6 * gauss()), b: Array.from({ length: d }, gauss) });
    const sample = () => {
      const hidden = Float32Array.from({ length: d }, gauss);
      const target = argmaxThroughHead(rest.apply(hidden), head, norm);
      const final = new Float32Array(V);
      final[target] = 1;
      return { hidden, final, target };
    };
    const train = Array.from({ length: 1500 }, sample);
    const test = Array.from({ length: 500 }, sample);
    const agreement = (map: (h: Float32Array) => ArrayLike<number>) => test.filter((e) => argmaxThroughHead(map(e.hidden), head, norm) === e.target).length / test.length;
    const plainLens = agreement((h) => h);
    const exitHead = new ExitHead(await trainExitHead(train, head, norm, eps, { epochs: 30, learningRate: 0.01, seed: 1 }));
    const tuned = agreement((h) => exitHead.map(h));
    console.log(`[exit head] plain lens ${plainLens}, trained ${tuned}`);
    expect(plainLens).toBeLessThan(0.6);
    expect(tuned).toBeGreaterThan(plainLens + 0.2);
  });
});
