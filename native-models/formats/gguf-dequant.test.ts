import { describe, expect, it } from "vitest";
import { F16_TABLE, dequantizeInto } from "./gguf-dequant.js";
import { ModelFormatError } from "./errors.js";
import * as B from "../test-support/ggml-blocks.js";

const r = B.rng(1234);
const ints = (n: number, lo: number, hi: number) =>
  Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
const deq = (type: string, bytes: Uint8Array, n: number) => {
  const out = new Float32Array(n);
  const bad = dequantizeInto(type, bytes, out);
  return { out: Array.from(out), bad };
};

describe("f16 table", () => {
  it("matches the f16 formula for every bit pattern", () => {
    for (let h = 0; h < 65536; h++) {
      const v = B.f16Value(h);
      if (Number.isNaN(v)) expect(F16_TABLE[h]).toBeNaN();
      else expect(F16_TABLE[h]).toBe(v);
    }
  });
  it("round-trips the test encoder", () => {
    for (const x of [0, 1, -2.5, 65504, 1e-7, 6.1e-5, 0.1]) expect(F16_TABLE[B.f16Bits(x)]).toBeCloseTo(x, 3);
  });
});

describe("dequantize known blocks", () => {
  it("F32, F16, BF16", () => {
    const vals = [1.5, -2, 0, 3.25e-3];
    expect(deq("F32", new Uint8Array(Float32Array.from(vals).buffer), 4).out).toEqual(vals.map(Math.fround));
    const h = new Uint8Array(new Uint16Array(vals.map(B.f16Bits)).buffer);
    expect(deq("F16", h, 4).out).toEqual(vals.map((v) => B.f16Value(B.f16Bits(v))));
    const bf = new Uint8Array(
      new Uint16Array(Array.from(new Uint32Array(Float32Array.from(vals).buffer), (u) => u >>> 16)).buffer,
    );
    // bf16 keeps the top 16 bits: 3.25e-3 truncates to 0.00323486328125.
    expect(deq("BF16", bf, 4).out).toEqual([1.5, -2, 0, 0.00323486328125]);
  });

  for (let trial = 0; trial < 5; trial++) {
    const d = B.f16Bits(0.01 + r() * 0.2);
    const m = B.f16Bits(-r());
    it(`Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 trial ${trial}`, () => {
      const q8 = ints(32, -128, 127);
      expect(deq("Q8_0", B.q8_0Block(d, q8), 32).out).toEqual(B.expectedQ8_0(d, q8));
      const q4 = ints(32, 0, 15);
      expect(deq("Q4_0", B.q4_0Block(d, q4), 32).out).toEqual(B.expectedQ4_0(d, q4));
      expect(deq("Q4_1", B.q4_1Block(d, m, q4), 32).out).toEqual(B.expectedQ4_1(d, m, q4));
      const q5 = ints(32, 0, 31);
      expect(deq("Q5_0", B.q5Block(d, undefined, q5), 32).out).toEqual(B.expectedQ5(d, undefined, q5));
      expect(deq("Q5_1", B.q5Block(d, m, q5), 32).out).toEqual(B.expectedQ5(d, m, q5));
    });
    it(`K-quants trial ${trial} (every 6-bit scale/min packing position)`, () => {
      const sc = ints(8, 0, 63);
      const mn = ints(8, 0, 63);
      // Make sure the high 2 bits (packed into other bytes for j >= 4) are exercised.
      sc[4 + (trial % 4)] = 63;
      mn[7 - (trial % 4)] = 48;
      const q4 = ints(256, 0, 15);
      expect(deq("Q4_K", B.q4_KBlock(d, m & 0x7fff, sc, mn, q4), 256).out).toEqual(
        B.expectedQ4_K(d, m & 0x7fff, sc, mn, q4),
      );
      const q5 = ints(256, 0, 31);
      expect(deq("Q5_K", B.q5_KBlock(d, m & 0x7fff, sc, mn, q5), 256).out).toEqual(
        B.expectedQ5_K(d, m & 0x7fff, sc, mn, q5),
      );
      const s6 = ints(16, -128, 127);
      const q6 = ints(256, 0, 63);
      expect(deq("Q6_K", B.q6_KBlock(d, s6, q6), 256).out).toEqual(B.expectedQ6_K(d, s6, q6));
    });
  }

  it("handles several blocks in a row and an output offset", () => {
    const d1 = B.f16Bits(0.5);
    const d2 = B.f16Bits(-0.25);
    const a = ints(32, 0, 15);
    const b = ints(32, 0, 15);
    const out = new Float32Array(66);
    expect(dequantizeInto("Q4_0", B.concat([B.q4_0Block(d1, a), B.q4_0Block(d2, b)]), out, 2)).toBe(0);
    expect(Array.from(out.subarray(2))).toEqual([...B.expectedQ4_0(d1, a), ...B.expectedQ4_0(d2, b)]);
  });

  it("counts non-finite values and blocks", () => {
    const inf = 0x7c00;
    expect(deq("Q8_0", B.q8_0Block(inf, ints(32, 0, 1)), 32).bad).toBe(1);
    expect(
      deq("Q4_K", B.q4_KBlock(B.f16Bits(1), 0x7e00, ints(8, 0, 63), ints(8, 0, 63), ints(256, 0, 15)), 256)
        .bad,
    ).toBe(1);
    expect(deq("F32", new Uint8Array(Float32Array.from([1, NaN, Infinity]).buffer), 3).bad).toBe(2);
    expect(deq("F16", new Uint8Array(new Uint16Array([0x3c00, 0x7c00, 0xfe00]).buffer), 3).bad).toBe(2);
    expect(deq("BF16", new Uint8Array(new Uint16Array([0x3f80, 0x7f80, 0xffc0]).buffer), 3).bad).toBe(2);
  });

  it("rejects other types and partial blocks", () => {
    expect(() => dequantizeInto("Q2_K", new Uint8Array(84), new Float32Array(256))).toThrow(ModelFormatError);
    expect(() => dequantizeInto("Q2_K", new Uint8Array(84), new Float32Array(256))).toThrow(
      /cannot dequantize ggml type Q2_K/,
    );
    expect(() => dequantizeInto("Q8_0", new Uint8Array(33), new Float32Array(32))).toThrow(/does not fit/);
  });
});
