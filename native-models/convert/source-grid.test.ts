// Keeping a file's block grid: the onnxruntime layout (quantizeMatrix) and the native kernels'
// (createLinear) hold exactly the values ggml's formula gives for Q8_0, Q5_0 and Q4_0 blocks; the
// choice of what to keep follows the bits; a value off its grid is an error, not a rounding.
import { describe, expect, it } from "vitest";
import { GRID_TYPES, gridScalesInto } from "../formats/block-grid.js";
import {
  concat,
  expectedQ4_0,
  expectedQ5,
  expectedQ8_0,
  f16Bits,
  q4_0Block,
  q5Block,
  q8_0Block,
  rng,
} from "../test-support/ggml-blocks.js";
import { dequantizeRow, quantizeMatrix } from "./quantize.js";
import { fileQuant, keptGrid, keptMatrices } from "./source-grid.js";
import { loadNativeKernels } from "../kernels/index.js";
import type { TensorInfo, TensorName } from "../formats/model-source.js";

const N = 5;
const K = 96;

/** N×K random blocks of `type`: its values by ggml's formula, and its scales as the reader takes them. */
function fileMatrix(type: "Q8_0" | "Q5_0" | "Q4_0", seed: number) {
  const r = rng(seed);
  const blocks: Uint8Array[] = [];
  const values = new Float32Array(N * K);
  for (let b = 0; b < (N * K) / 32; b++) {
    // Negative scales too: ggml's Q4_0/Q5_0 quantizers give them.
    const d = f16Bits((r() < 0.3 ? -1 : 1) * (0.002 + r() * 0.05));
    const q = Array.from({ length: 32 }, () =>
      Math.floor(r() * (type === "Q8_0" ? 255 : type === "Q5_0" ? 32 : 16)),
    );
    const q8 = q.map((v) => v - 127);
    blocks.push(
      type === "Q8_0" ? q8_0Block(d, q8) : type === "Q5_0" ? q5Block(d, undefined, q) : q4_0Block(d, q),
    );
    values.set(
      type === "Q8_0"
        ? expectedQ8_0(d, q8)
        : type === "Q5_0"
          ? expectedQ5(d, undefined, q)
          : expectedQ4_0(d, q),
      b * 32,
    );
  }
  const bytes = concat(blocks);
  const scales = new Float32Array(blocks.length);
  gridScalesInto(type, bytes, scales, 0);
  return { values, scales, bits: GRID_TYPES[type].bits };
}

const cases = [
  ["Q8_0", 8],
  ["Q5_0", 8],
  ["Q4_0", 8],
  ["Q4_0", 4],
] as const;

describe("a file's block grid kept", () => {
  for (const [type, bits] of cases) {
    it(`${type} at int${bits}: the onnxruntime layout dequantizes to the file's values exactly`, () => {
      const f = fileMatrix(type, 11);
      const q = quantizeMatrix(f.values, N, K, bits, 32, f.scales);
      const row = new Float32Array(K);
      for (let r = 0; r < N; r++) {
        dequantizeRow(q, r, row);
        expect(Array.from(row)).toEqual(Array.from(f.values.subarray(r * K, (r + 1) * K)));
      }
    });
  }

  const kernel = loadNativeKernels();
  for (const [type, bits] of cases) {
    it.runIf(kernel.available)(
      `${type} at int${bits}: the native kernels hold the file's values exactly`,
      () => {
        if (!kernel.available) return;
        const f = fileMatrix(type, 12);
        const head = kernel.createLinear({
          outputs: N,
          inputs: K,
          bits,
          blockSize: 32,
          weights: f.values,
          weightsGrid: f.scales,
        });
        expect(Array.from(head.weights())).toEqual(Array.from(f.values));
        // Without the grid the same values are rounded again (absmax / 127 or min/max over 15).
        const free = kernel.createLinear({ outputs: N, inputs: K, bits, blockSize: 32, weights: f.values });
        expect(Array.from(free.weights())).not.toEqual(Array.from(f.values));
        head.close();
        free.close();
      },
    );
  }

  it.runIf(kernel.available)("refuses values off the grid, and a grid at another block size", () => {
    if (!kernel.available) return;
    const f = fileMatrix("Q8_0", 13);
    const moved = f.values.slice();
    moved[40] += f.scales[1] / 2; // half a step: between two grid points
    const o = { outputs: N, inputs: K, bits: 8 as const, weights: moved, weightsGrid: f.scales };
    expect(() => kernel.createLinear({ ...o, blockSize: 32 })).toThrow(/off their block grid/);
    expect(() => kernel.createLinear({ ...o, weights: f.values, blockSize: 64 })).toThrow(/blockSize 32/);
    expect(() => quantizeMatrix(moved, N, K, 8, 32, f.scales)).toThrow(/not on its block's grid/);
    // Q8_0's n runs to ±127: int4 codes cannot hold it.
    expect(() => quantizeMatrix(f.values, N, K, 4, 32, f.scales)).toThrow(/not on its block's grid/);
  });

  it("keeps a grid only where the bits and block size hold every part", () => {
    const g4 = { type: "Q4_0", bits: 4 as const, scales: Float32Array.of(1, 2) };
    const g8 = { type: "Q8_0", bits: 8 as const, scales: Float32Array.of(3) };
    expect(Array.from(keptGrid(8, 32, g4, g8)!)).toEqual([1, 2, 3]);
    expect(keptGrid(4, 32, g4, g8)).toBeUndefined();
    expect(keptGrid(8, 128, g4)).toBeUndefined();
    expect(keptGrid(8, 32, g4, undefined)).toBeUndefined();
  });

  it("chooses the bits a quantized file's matrices need, and counts what a choice keeps", () => {
    const t = (name: string, sourceType: string, shape = [64, 256]): [TensorName, TensorInfo] => [
      name as TensorName,
      { name: name as TensorName, shape, sourceType },
    ];
    const file = (...ts: [TensorName, TensorInfo][]) => new Map(ts);
    const q40 = file(t("embed", "Q4_0"), t("layers.0.wq", "Q4_0"), t("layers.0.attn_norm", "F32", [256]));
    expect(fileQuant(q40)).toBe(4);
    expect(keptMatrices(q40, "int4", 32)).toEqual({ kept: 2, of: 2, types: ["Q4_0"] });
    expect(keptMatrices(q40, "int4", 128)).toEqual({ kept: 1, of: 2, types: ["Q4_0"] });
    // llama.cpp's Q4_K_M on narrow rows: mostly Q5_0, which needs int8.
    const q4km = file(t("layers.0.wq", "Q5_0"), t("layers.0.w_down", "Q4_K"), t("lm_head", "Q8_0"));
    expect(fileQuant(q4km)).toBe(8);
    expect(keptMatrices(q4km, "int8", 32)).toEqual({ kept: 2, of: 3, types: ["Q4_K", "Q5_0", "Q8_0"] });
    expect(keptMatrices(q4km, "int4", 32).kept).toBe(0);
    expect(fileQuant(file(t("layers.0.wq", "Q4_K"), t("layers.0.wv", "Q6_K", [16, 256])))).toBe(4);
    expect(fileQuant(file(t("layers.0.wq", "F16")))).toBeUndefined();
    expect(keptMatrices(file(t("layers.0.wq", "F16")), "f32", 32).kept).toBe(1);
  });
});
