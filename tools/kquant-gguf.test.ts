// The Q4_K_M writer's block quantizers against the engine's own K-quant dequantizer (which is
// checked against llama.cpp's layouts in formats/): what is written reads back as the values
// quantized, within each format's rounding error.
import { describe, expect, it } from "vitest";
import { dequantizeInto } from "../native-models/formats/gguf-dequant.js";
import { QK, quantizeMinBlock, quantizeQ4K, quantizeQ5K, quantizeQ6K } from "./kquant-gguf.js";

function block(seed: number, scale: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: QK }, () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) / 2 ** 24 - 0.5) * 2 * scale;
  });
}

describe("K-quant block writers", () => {
  it.each([
    ["Q4_K", quantizeQ4K, 144, 15],
    ["Q5_K", quantizeQ5K, 176, 31],
    ["Q6_K", quantizeQ6K, 210, 63],
  ] as const)("%s blocks dequantize back within one quantization step", (type, quantize, bytes, levels) => {
    for (const [seed, scale] of [
      [1, 0.02],
      [2, 1],
      [3, 30],
    ]) {
      const x = block(seed, scale);
      const raw = new Uint8Array(bytes);
      quantize(x, raw);
      const back = new Float32Array(QK);
      dequantizeInto(type, raw, back);
      let worst = 0;
      for (let i = 0; i < QK; i++) worst = Math.max(worst, Math.abs(back[i] - x[i]));
      // A step is (range of a sub-block) / levels; scales are rounded too, so allow one full step.
      expect(worst).toBeLessThan((2 * scale) / levels + 1e-6);
      expect(worst).toBeGreaterThan(0);
    }
  });

  it("an all-zero block stays zero", () => {
    for (const [type, quantize, bytes] of [
      ["Q4_K", quantizeQ4K, 144],
      ["Q5_K", quantizeQ5K, 176],
      ["Q6_K", quantizeQ6K, 210],
    ] as const) {
      const raw = new Uint8Array(bytes);
      quantize(new Float32Array(QK), raw);
      const back = new Float32Array(QK).fill(1);
      dequantizeInto(type, raw, back);
      expect(Array.from(back).every((v) => v === 0)).toBe(true);
    }
  });

  it.each([
    ["Q4_1", 15, 20],
    ["Q5_1", 31, 24],
  ] as const)("%s blocks dequantize back within half a step, their minimum close", (type, levels, bytes) => {
    for (const [seed, scale] of [
      [4, 0.02],
      [5, 1],
      [6, 30],
    ]) {
      const x = block(seed, scale).subarray(0, 32);
      const raw = new Uint8Array(bytes);
      quantizeMinBlock(levels, x, raw);
      const back = new Float32Array(32);
      dequantizeInto(type, raw, back);
      const step = (Math.max(...x) - Math.min(...x)) / levels;
      for (let i = 0; i < 32; i++) expect(Math.abs(back[i] - x[i])).toBeLessThan(step / 2 + 2e-3 * scale);
    }
  });
});
