import { describe, expect, it } from "vitest";
import { seededRandom } from "../runtime/sampler.js";
import {
  addEquations,
  ExitHead,
  fitAffine,
  normalEquations,
  rmsNormalised,
  solveAffine,
} from "./exit-head.js";

function gaussians(seed: number) {
  const rand = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

describe("exit heads (ridge-fitted affine maps)", () => {
  it("recover a full affine map of the normalised input", () => {
    const g = gaussians(3);
    const d = 6;
    const inputs = 9;
    const W = Float32Array.from({ length: d * inputs }, g);
    const b = Float32Array.from({ length: d }, g);
    const x = Array.from({ length: 400 }, () => Float32Array.from({ length: inputs }, () => 3 * g()));
    const y = x.map((v) => {
      const xs = rmsNormalised(v);
      return Float32Array.from(
        { length: d },
        (_, j) => b[j] + xs.reduce((s, xi, p) => s + W[j * inputs + p] * xi, 0),
      );
    });
    const map = fitAffine(x, y, { diag: false, lambda: 1e-6 });
    expect(map.kind).toBe("full");
    for (let i = 0; i < W.length; i++) expect(map.w[i]).toBeCloseTo(W[i], 3);
    for (let j = 0; j < d; j++) expect(map.b[j]).toBeCloseTo(b[j], 3);
    // Applied (natively where the kernels are built, in JS otherwise) it reproduces the targets.
    const head = new ExitHead(map);
    const got = head.apply(x[7]);
    for (let j = 0; j < d; j++) expect(got[j]).toBeCloseTo(y[7][j], 1);
    head.close();
  });

  it("fit one scale and offset per dimension when diagonal", () => {
    const g = gaussians(5);
    const d = 5;
    const a = [0.5, -2, 1, 3, 0.1];
    const c = [1, 0, -1, 2, 0.5];
    const x = Array.from({ length: 300 }, () => Float32Array.from({ length: d }, g));
    const y = x.map((v) => Float32Array.from(rmsNormalised(v), (xs, j) => a[j] * xs + c[j]));
    const map = fitAffine(x, y, { diag: true, lambda: 1e-6 });
    expect(map.kind).toBe("diag");
    for (let j = 0; j < d; j++) {
      expect(map.w[j]).toBeCloseTo(a[j], 3);
      expect(map.b[j]).toBeCloseTo(c[j], 3);
    }
    expect(() => fitAffine([new Float32Array(3)], [new Float32Array(2)], { diag: true })).toThrow(
      /as many inputs as outputs/,
    );
  });

  it("fit the same map from sums over parts of the examples as from all of them (cross-validation folds)", () => {
    const g = gaussians(9);
    const x = Array.from({ length: 120 }, () => Float32Array.from({ length: 7 }, g));
    const y = x.map((v) => Float32Array.from({ length: 4 }, (_, j) => v[j] - 0.5 * v[j + 3] + 0.1 * g()));
    const whole = fitAffine(x, y, { diag: false });
    const parts = solveAffine(
      addEquations(
        normalEquations(x.slice(0, 50), y.slice(0, 50)),
        normalEquations(x.slice(50), y.slice(50)),
      ),
    );
    whole.w.forEach((w, i) => expect(parts.w[i]).toBeCloseTo(w, 5));
    whole.b.forEach((b, i) => expect(parts.b[i]).toBeCloseTo(b, 5));
    expect(() => addEquations(normalEquations(x, y), normalEquations(x, x))).toThrow(/different shapes/);
  });
});
