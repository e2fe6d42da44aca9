import { describe, expect, it } from "vitest";
import { toHalf } from "../convert/float16.js";
import {
  createReferenceFfn,
  floatFfn,
  halfToFloat,
  paddedLength,
  quantizeRows,
  roundEven,
} from "./kernel-reference.js";
import { randomFfn, randomInput, relativeError, thresholdFor } from "./kernel-synthetic.js";

describe("reference helpers", () => {
  it("rounds half to even like C's nearbyint", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });

  it("decodes fp16 (normal, subnormal, zero, infinity) as toHalf encodes it", () => {
    // fp16 keeps 11 significant bits; subnormals (below 2^-14) have a fixed step of 2^-24.
    for (const v of [1, -2.5, 0.000123, 65504, 6e-8, 0]) {
      expect(Math.abs(halfToFloat(toHalf(v)) - v)).toBeLessThanOrEqual(
        Math.max(Math.abs(v) * 2 ** -11, 2 ** -25),
      );
    }
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
  });

  it("pads rows to a multiple of max(block, 64) and dequantizes padding to zero", () => {
    expect(paddedLength(100, 32)).toBe(128);
    expect(paddedLength(100, 128)).toBe(128);
    expect(paddedLength(2048, 256)).toBe(2048);
    const row = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    for (const bits of [4, 8] as const) {
      const m = quantizeRows(bits, 32, 1, 40, (_, j) => row[j]);
      expect(m.dp).toBe(64);
      const deq = (j: number) => (m.codes[j] - m.zp[j >> 5]) * m.scales[j >> 5];
      for (let j = 40; j < 64; j++) expect(deq(j)).toBe(0);
      // Round-to-nearest error is at most half a step (plus the fp16 rounding of the scale).
      for (let j = 0; j < 40; j++)
        expect(Math.abs(deq(j) - row[j])).toBeLessThanOrEqual(m.scales[j >> 5] * 0.51);
    }
  });
});

describe("reference FFN vs float64 math", () => {
  const w = randomFfn(256, 384, 11);
  const x = randomInput(256, 3);

  // Expected quantization error for Gaussian weights: int8 absmax steps are ~3.5σ/127, i.e. ~0.8% RMS
  // per matrix, plus the int8 activations; int4 (range/15 steps) is ~10% per matrix. Three matmuls
  // and SiLU compound that into ~1.2% (int8) and ~14% (int4) on the output.
  it.each([
    [8, 32, 0.025],
    [8, 128, 0.03],
    [4, 32, 0.25],
    [4, 64, 0.3],
  ] as const)("int%i block %i dense: relative error below %f", (bits, blockSize, tol) => {
    const ref = createReferenceFfn({ ...w, bits, blockSize });
    const out = new Float32Array(256);
    expect(ref.run(x, out, 0).active).toBe(384);
    expect(relativeError(out, floatFfn(w, x).out)).toBeLessThan(tol);
  });

  it("CATS threshold keeps the chosen share of neurons and reports SiLU(gate)", () => {
    const ref = createReferenceFfn({ ...w, bits: 8 });
    const acts = new Float32Array(384);
    const out = new Float32Array(256);
    ref.run(x, out, 0, acts);
    const t = thresholdFor([acts], 0.5);
    const { active } = ref.run(x, out, t);
    expect(active).toBeGreaterThanOrEqual(190);
    expect(active).toBeLessThanOrEqual(194);
    const exact = floatFfn(w, x, t);
    expect(Math.abs(exact.active - active)).toBeLessThanOrEqual(4);
    expect(relativeError(out, exact.out)).toBeLessThan(0.05);
  });
});
