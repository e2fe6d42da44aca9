// The packed matrices' storage: fp16 block scales, and no zero points for a kept Q4_0 grid, so a
// block costs what the file's block does; files in the older layout (fp32 scales, written by the
// engine before it) still load and compute what they computed then. Skipped without the addon
// unless EXITLANE_REQUIRE_NATIVE=1.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadNativeKernels, type SparseIsa } from "./index.js";
import { matrixFileBytes } from "./saved-bytes.js";
import { randomInput, relativeError } from "../test-support/kernel-synthetic.js";

const kernel = loadNativeKernels();
const fixtures = path.join(import.meta.dirname, "fixtures");

/** A Q4_0 grid: every value an integer in [-8, 7] times its block's scale (fp16-exact, some negative). */
function q4Grid(n: number, k: number) {
  const scales = Float32Array.from(
    { length: (n * k) / 32 },
    (_, b) => (b % 5 === 0 ? -1 : 1) * (1 + (b % 7)) * 2 ** -9,
  );
  const w = Float32Array.from({ length: n * k }, (_, i) => (((i * 7 + (i >> 5)) % 16) - 8) * scales[i >> 5]);
  return { w, scales };
}

describe.runIf(kernel.available)("packed matrix storage", () => {
  if (!kernel.available) return;
  const k = kernel;
  const isas = k.kernels.map(
    (n) => ({ "avx512-vnni": "avx512", "avx512-amx": "amx" })[n] ?? n,
  ) as SparseIsa[];

  it.each(isas)("%s: a kept Q4_0 grid multiplies as W·x, in Q4_0's own 18 bytes per block", (isa) => {
    const [n, kIn, rows] = [48, 256, 5];
    const { w: wq, scales } = q4Grid(n, kIn);
    const lin = k.createLinear({
      outputs: n,
      inputs: kIn,
      bits: 4,
      blockSize: 32,
      weights: wq,
      weightsGrid: scales,
      isa,
    });
    expect(Array.from(lin.weights())).toEqual(Array.from(wq));
    expect(lin.info.bytes).toBe(matrixFileBytes(n, kIn, 4, 32, { bits: 4, form: "grid" }) - 64);
    expect(lin.info.bytes).toBe((n * kIn * 18) / 32);
    const x = Float32Array.from(
      { length: rows * kIn },
      (_, i) => randomInput(kIn, 20 + Math.floor(i / kIn))[i % kIn],
    );
    const y = new Float32Array(rows * n);
    lin.run(x, y, rows);
    for (let r = 0; r < rows; r++) {
      const want = new Float32Array(n);
      for (let o = 0; o < n; o++) for (let j = 0; j < kIn; j++) want[o] += wq[o * kIn + j] * x[r * kIn + j];
      // Only the activations are quantized (int8 per 32): the weights are exact.
      expect(relativeError(y.subarray(r * n, (r + 1) * n), want)).toBeLessThan(0.02);
    }
    lin.close();
  });

  it("loads files in the older layout (fp32 scales) to the weights the same floats give now", () => {
    // The generator of the fixtures (written by the engine before layout 1): the same numbers in
    // the same order, so the same matrices can be made again here.
    let seed = 5;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
    const vec = (n: number, s: number) => Float32Array.from({ length: n }, () => rnd() * s);
    const then = JSON.parse(readFileSync(path.join(fixtures, "layout0-outputs.json"), "utf8")) as Record<
      string,
      { x: number[]; y: number[] }
    >;
    const near = (got: Float32Array, name: string) =>
      // The engine then kept activation scales at fp32 (now fp16, as llama.cpp): outputs move a little.
      expect(relativeError(got, Float32Array.from(then[name].y))).toBeLessThan(0.01);
    for (const [name, bits, block, n, kIn] of [
      ["linear-int8", 8, 32, 20, 64],
      ["linear-int4", 4, 64, 20, 130],
    ] as const) {
      const made = k.createLinear({
        outputs: n,
        inputs: kIn,
        bits,
        blockSize: block,
        weights: vec(n * kIn, 0.2),
        bias: vec(n, 0.1),
        norm: vec(kIn, 2),
        eps: 1e-5,
      });
      const x = vec(kIn, 1);
      const old = k.loadLinear(path.join(fixtures, `${name}.native`));
      expect(Array.from(old.weights())).toEqual(Array.from(made.weights()));
      const [a, b] = [new Float32Array(n), new Float32Array(n)];
      old.run(x, a, 1);
      made.run(x, b, 1);
      expect(Array.from(a)).toEqual(Array.from(b));
      near(a, name);
      old.close();
      made.close();
    }
    const [d, ffn] = [64, 96];
    const made = k.createFfn({
      d,
      ffn,
      bits: 4,
      blockSize: 32,
      gate: vec(d * ffn, 0.2),
      up: vec(d * ffn, 0.2),
      down: vec(d * ffn, 0.2),
      form: "dense",
    });
    const old = k.loadFfn(path.join(fixtures, "ffn-dense-int4.native"));
    for (const m of ["gate", "up", "down"] as const)
      expect(Array.from(old.weights(m))).toEqual(Array.from(made.weights(m)));
    const out = new Float32Array(d);
    old.run(vec(d, 1), out, 0);
    near(out, "ffn-dense-int4");
    old.close();
    made.close();
  });
});
