// Keeping a file's block grid: the onnxruntime layout (quantizeMatrix) and the native kernels'
// (createLinear) hold exactly the values ggml's formula gives for Q8_0, Q5_0 and Q4_0 blocks; the
// choice of what to keep follows the bits; a value off its grid is an error, not a rounding.
import { statSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { GRID_TYPES, gridScalesInto } from "../formats/block-grid.js";
import { dequantizeInto } from "../formats/gguf-dequant.js";
import { linearFileBytes, matrixFileBytes } from "../kernels/saved-bytes.js";
import {
  concat,
  expectedQ4_0,
  expectedQ4_1,
  expectedQ4_K,
  expectedQ5_K,
  expectedQ6_K,
  expectedQ5,
  expectedQ8_0,
  f16Bits,
  q4_0Block,
  q4_1Block,
  q4_KBlock,
  q5_KBlock,
  q6_KBlock,
  q5Block,
  q8_0Block,
  rng,
} from "../test-support/ggml-blocks.js";
import { dequantizeRow, quantizeMatrix } from "./quantize.js";
import {
  fileQuant,
  keptGrid,
  keptMatrices,
  matrixStorage,
  nativeForm,
  type FileBlocks,
  type MatrixStorage,
} from "./source-grid.js";
import { loadNativeKernels, type NativeLinear } from "../kernels/index.js";
import { SOURCE_FORM } from "../../wire/model.js";
import type { TensorInfo, TensorName } from "../formats/model-source.js";

const fixtures = path.join(import.meta.dirname, "../kernels/fixtures");
const tmp = makeTempDir("exitlane-source-grid-");
afterAll(() => tmp.cleanup());
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

  it("stores each matrix with at least its type's bits when the package keeps the file", () => {
    expect(matrixStorage(["Q5_0"], 4, 32, true)).toEqual({ bits: 5, form: "grid" });
    expect(matrixStorage(["Q5_0"], 8, 32, true)).toEqual({ bits: 5, form: "grid" });
    expect(matrixStorage(["Q4_0"], 8, 32, true)).toEqual({ bits: 8, form: "grid" });
    // llama.cpp's narrow-row fallback: a Q5_0 q and k with a Q8_0 v, as bands in their own forms
    // where the rows allow, else in int8 codes.
    expect(matrixStorage(["Q5_0", "Q5_0", "Q8_0"], 4, 32, true, [64, 32, 32])).toEqual({
      bits: 8,
      form: "grid",
      bands: [
        { parts: 2, rows: 96, storage: { bits: 5, form: "grid" } },
        { parts: 1, rows: 32, storage: { bits: 8, form: "grid" } },
      ],
    });
    expect(matrixStorage(["Q5_0", "Q5_0", "Q8_0"], 4, 32, true, [60, 30, 30])).toEqual({
      bits: 8,
      form: "grid",
    });
    expect(matrixStorage(["Q6_K"], 4, 32, true)).toEqual({
      bits: 8,
      form: "k6",
      mins: false,
      activationGroup: 256,
    });
    expect(matrixStorage(["Q5_K"], 8, 32, true)).toEqual({ bits: 5, form: "q5k", activationGroup: 256 });
    // Q5_K stacked with Q4_K: one K6 matrix (6-bit codes), mins stored.
    expect(matrixStorage(["Q4_K", "Q5_K"], 8, 32, true)).toEqual({
      bits: 8,
      form: "k6",
      mins: true,
      activationGroup: 256,
    });
    expect(matrixStorage(["Q6_K"], 4, 32, false)).toEqual({ bits: 4, form: "free" });
    expect(matrixStorage(["Q4_0"], 4, 32, true)).toEqual({ bits: 4, form: "grid" });
    // K-quant matrices take their activations as llama.cpp gives them (Q8_K: a scale per 256).
    expect(matrixStorage(["Q4_K", "Q4_K"], 8, 32, true)).toEqual({
      bits: 4,
      form: "q4k",
      activationGroup: 256,
    });
    // A stack of Q4_K and Q6_K parts (llama.cpp's qkv with a Q6_K v): all their blocks, 6-bit codes, mins stored (zero on the Q6_K rows).
    expect(matrixStorage(["Q4_K", "Q6_K"], 4, 32, true)).toEqual({
      bits: 8,
      form: "k6",
      mins: true,
      activationGroup: 256,
    });
    expect(matrixStorage(["Q4_K", "Q5_0"], 4, 32, true)).toEqual({ bits: 8, form: "free" });
    // Lowered by the user's choice: the package's bits.
    expect(matrixStorage(["Q5_0"], 4, 32, false)).toEqual({ bits: 4, form: "free" });
    expect(matrixStorage(["F16"], 4, 32, true)).toEqual({ bits: 4, form: "free" });
    expect(matrixStorage(["Q4_K"], 4, 128, true)).toEqual({ bits: 4, form: "free" });
  });

  it("chooses the bits a quantized file's matrices need, and counts what a choice keeps", () => {
    const t = (name: string, sourceType: string, shape = [64, 256]): [TensorName, TensorInfo] => [
      name as TensorName,
      { name: name as TensorName, shape, sourceType },
    ];
    const file = (...ts: [TensorName, TensorInfo][]) => new Map(ts);
    const q40 = file(t("embed", "Q4_0"), t("layers.0.wq", "Q4_0"), t("layers.0.attn_norm", "F32", [256]));
    expect(fileQuant(q40)).toBe(4);
    expect(keptMatrices(q40, "int4", 32)).toEqual({ form: SOURCE_FORM, kept: 2, of: 2, types: ["Q4_0"] });
    expect(keptMatrices(q40, "int4", 128)).toEqual({ form: SOURCE_FORM, kept: 1, of: 2, types: ["Q4_0"] });
    // llama.cpp's Q4_K_M on narrow rows: mostly Q5_0 and Q8_0, Q4_K where rows allow. A 4-bit
    // file: at int4 as at int8 its Q5_0 and Q8_0 matrices keep their own bits, and Q4_K its blocks.
    const q4km = file(t("layers.0.wq", "Q5_0"), t("layers.0.w_down", "Q4_K"), t("lm_head", "Q8_0"));
    expect(fileQuant(q4km)).toBe(4);
    expect(keptMatrices(q4km, "int8", 32)).toEqual({
      form: SOURCE_FORM,
      kept: 3,
      of: 3,
      types: ["Q4_K", "Q5_0", "Q8_0"],
    });
    expect(keptMatrices(q4km, "int4", 32).kept).toBe(3);
    // int4 on an 8-bit file is a lower quantization the user asked for: nothing is kept.
    const q80 = file(t("layers.0.wq", "Q8_0"), t("lm_head", "Q8_0"));
    expect(fileQuant(q80)).toBe(8);
    expect(keptMatrices(q80, "int4", 32).kept).toBe(0);
    expect(fileQuant(file(t("layers.0.wq", "Q4_K"), t("layers.0.wv", "Q6_K", [16, 256])))).toBe(4);
    expect(fileQuant(file(t("layers.0.wq", "F16")))).toBeUndefined();
    expect(keptMatrices(file(t("layers.0.wq", "F16")), "f32", 32).kept).toBe(1);
  });
});

/**
 * rows×cols random Q4_K, Q5_K or Q6_K blocks: the values by ggml's formula, the reader's, and the
 * blocks as the file holds them.
 */
function kMatrix(type: "Q4_K" | "Q5_K" | "Q6_K", rows: number, cols: number, seed: number) {
  const r = rng(seed);
  const blocks: Uint8Array[] = [];
  const values = new Float32Array(rows * cols);
  for (let b = 0; b < (rows * cols) / 256; b++) {
    const d = f16Bits(0.0005 + r() * 0.01);
    if (type === "Q6_K") {
      const sc = Array.from({ length: 16 }, (_, j) => (j === 5 && b === 1 ? 0 : Math.floor(r() * 256) - 128));
      const q = Array.from({ length: 256 }, () => Math.floor(r() * 64)); // stored 0..63: q - 32
      blocks.push(q6_KBlock(d, sc, q));
      values.set(expectedQ6_K(d, sc, q), b * 256);
      continue;
    }
    const dmin = f16Bits(r() * 0.01);
    const sc = Array.from({ length: 8 }, (_, j) => (j === 3 && b === 1 ? 0 : Math.floor(r() * 64)));
    const m = Array.from({ length: 8 }, () => Math.floor(r() * 64));
    const q = Array.from({ length: 256 }, () => Math.floor(r() * (type === "Q5_K" ? 32 : 16)));
    blocks.push(type === "Q5_K" ? q5_KBlock(d, dmin, sc, m, q) : q4_KBlock(d, dmin, sc, m, q));
    values.set((type === "Q5_K" ? expectedQ5_K : expectedQ4_K)(d, dmin, sc, m, q), b * 256);
  }
  const bytes = concat(blocks);
  const read = new Float32Array(rows * cols);
  dequantizeInto(type, bytes, read, 0, "test");
  return { values, read, file: { type, rows, bytes } };
}

/**
 * A file's blocks in `storage` on every kernel set here: each holds exactly `values`, at the size
 * saved-bytes gives, and multiplies 20 rows (the tile kernel's batch too, where there is one) as
 * W·x up to the activations' quantization; the sets differ in float rounding only. `more` checks
 * each set's matrix further (x: the 20 input rows, y: its outputs).
 */
function expectEveryKernelSet(
  values: Float32Array,
  rows: number,
  cols: number,
  storage: MatrixStorage,
  file: FileBlocks,
  more: (lin: NativeLinear, isa: string, x: Float32Array, y: Float32Array) => void,
): void {
  const kernel = loadNativeKernels();
  if (!kernel.available) throw new Error("native kernels needed");
  const isas = kernel.kernels.map((n) => ({ "avx512-vnni": "avx512", "avx512-amx": "amx" })[n] ?? n);
  const x = Float32Array.from({ length: 20 * cols }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
  const want = new Float32Array(20 * rows);
  for (let s = 0; s < 20; s++)
    for (let o = 0; o < rows; o++) {
      let acc = 0;
      for (let j = 0; j < cols; j++) acc += values[o * cols + j] * x[s * cols + j];
      want[s * rows + o] = acc;
    }
  const results: Float32Array[] = [];
  for (const isa of isas) {
    const lin = kernel.createLinear({
      outputs: rows,
      inputs: cols,
      bits: 4,
      blockSize: 32,
      weightsGrid: nativeForm(storage, [], [file]),
      isa: isa as never,
    });
    expect(Array.from(lin.weights())).toEqual(Array.from(values));
    expect(lin.info.bytes).toBe(matrixFileBytes(rows, cols, 4, 32, storage) - 64);
    const y = new Float32Array(20 * rows);
    lin.run(x, y, 20);
    results.push(y);
    let err = 0;
    let norm = 0;
    for (let i = 0; i < y.length; i++) {
      err += (y[i] - want[i]) ** 2;
      norm += want[i] ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.01); // only the activations are quantized
    more(lin, isa, x, y);
    lin.close();
  }
  // Every kernel set sums the same integers: their results differ in float rounding only.
  for (const y of results) for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(results[0][i], 2);
}

// Bytes per weight: Q4_K its file's 18 per 32 (6-bit scales and mins); Q6_K its file's 26.25
// per 32 (6-bit codes, a scale per 16); Q5_K its file's 22 (Q4_K's form with 5-bit codes).
const K_FORMS = [
  ["Q4_K", { bits: 4, form: "q4k", activationGroup: 256 }, 9 / 16],
  ["Q6_K", { bits: 8, form: "k6", mins: false, activationGroup: 256 }, 105 / 128],
  ["Q5_K", { bits: 5, form: "q5k", activationGroup: 256 }, 11 / 16],
] as const;

describe.each(K_FORMS)("a file's %s blocks kept", (type, storage, bytesPerInput) => {
  const kernel = loadNativeKernels();
  const [rows, cols] = [40, 512];

  it("the reader's values are ggml's, and the storage rule picks this form", () => {
    expect(matrixStorage([type], 4, 32, true)).toEqual(storage);
    const f = kMatrix(type, rows, cols, 21);
    expect(Array.from(f.read)).toEqual(Array.from(f.values));
  });

  it.runIf(kernel.available)("every kernel set holds and multiplies the file's values", () => {
    const f = kMatrix(type, rows, cols, 22);
    expectEveryKernelSet(f.values, rows, cols, storage, f.file, (lin) => {
      expect(lin.info.bytes).toBe(48 * cols * bytesPerInput); // 3 groups of 16 rows
    });
  });

  it.runIf(kernel.available)(
    "refuses blocks that do not fit: short, of another form, a scale not finite",
    () => {
      if (!kernel.available) return;
      const f = kMatrix(type, rows, cols, 23);
      const o = { outputs: rows, inputs: cols, bits: 4 as const, blockSize: 32 as const };
      const grid = (file: FileBlocks) => nativeForm(storage, [], [file]);
      const short = { ...f.file, bytes: f.file.bytes.subarray(1) };
      expect(() => kernel.createLinear({ ...o, weightsGrid: grid(short) })).toThrow(/must hold \d+ bytes/);
      const other = { ...f.file, type: type === "Q6_K" ? "Q4_K" : "Q6_K" };
      expect(() => kernel.createLinear({ ...o, weightsGrid: grid(other) })).toThrow(/bytes|do not fit/);
      const nan = f.file.bytes.slice();
      nan.set([0x00, 0x7e], type === "Q6_K" ? 208 : 0); // superblock 0's d: an fp16 NaN
      expect(() => kernel.createLinear({ ...o, weightsGrid: grid({ ...f.file, bytes: nan }) })).toThrow(
        /not finite/,
      );
      expect(() => kernel.createLinear({ ...o, blockSize: 64, weightsGrid: grid(f.file) })).toThrow(
        /blockSize 32/,
      );
    },
  );
});

/**
 * rows×cols random Q5_0, Q4_1 or Q5_1 blocks (negative mins and scales too): ggml's values and
 * the file's blocks.
 */
function block32Matrix(type: "Q5_0" | "Q4_1" | "Q5_1", rows: number, cols: number, seed: number) {
  const r = rng(seed);
  const blocks: Uint8Array[] = [];
  const values = new Float32Array(rows * cols);
  for (let b = 0; b < (rows * cols) / 32; b++) {
    const d = f16Bits((r() < 0.2 ? -1 : 1) * (0.001 + r() * 0.02));
    const m = f16Bits((r() - 0.6) * 0.2);
    const q = Array.from({ length: 32 }, () => Math.floor(r() * (type === "Q4_1" ? 16 : 32)));
    const min = type === "Q5_0" ? undefined : m;
    blocks.push(type === "Q4_1" ? q4_1Block(d, m, q) : q5Block(d, min, q));
    values.set(type === "Q4_1" ? expectedQ4_1(d, m, q) : expectedQ5(d, min, q), b * 32);
  }
  return { values, file: { type, rows, bytes: concat(blocks) } };
}

// Each at its file's bytes per 32: Q5_0 22 (5-bit codes, an fp16 scale), Q4_1 20 (4-bit codes, an
// fp16 scale and min), Q5_1 24 (5-bit codes, both).
const BLOCK32_FORMS = [
  ["Q5_0", { bits: 5, form: "grid" }, 22 / 32],
  ["Q4_1", { bits: 4, form: "mins" }, 20 / 32],
  ["Q5_1", { bits: 5, form: "mins" }, 24 / 32],
] as const;

describe.each(BLOCK32_FORMS)("a file's %s blocks kept", (type, storage, bytesPerInput) => {
  const kernel = loadNativeKernels();
  const [rows, cols] = [40, 96];

  it("the storage rule picks this form, whatever the bits where the file is 4-bit", () => {
    expect(matrixStorage([type], 8, 32, true)).toEqual(storage);
    expect(matrixStorage([type], 4, 32, true)).toEqual(storage);
    // A lower quantization than the file's, asked for: rounded, at the bits asked.
    expect(matrixStorage([type], 4, 32, false)).toEqual(
      type === "Q4_1" ? storage : { bits: 4, form: "free" },
    );
    expect(matrixStorage([type], 4, 128, true)).toEqual({ bits: 4, form: "free" });
  });

  it.runIf(kernel.available)(
    "every kernel set holds and multiplies the file's values, saved and loaded",
    () => {
      if (!kernel.available) return;
      const f = block32Matrix(type, rows, cols, 41);
      expectEveryKernelSet(f.values, rows, cols, storage, f.file, (lin, isa, x, y) => {
        expect(lin.info.bytes).toBe(48 * 128 * bytesPerInput); // 3 groups of 16 rows, inputs padded to 128
        // These forms stay off the tile kernel: one row alone gives what it gives among 20.
        const one = new Float32Array(rows);
        lin.run(x.subarray(0, cols), one, 1);
        expect(Array.from(one)).toEqual(Array.from(y.subarray(0, rows)));
        const file = path.join(tmp.dir, `${type}-${isa}.native`);
        lin.save(file);
        expect(statSync(file).size).toBe(
          linearFileBytes(rows, cols, 4, 32, { norm: false, bias: false }, storage),
        );
        const back = kernel.loadLinear(file, { isa: isa as never });
        expect(Array.from(back.weights())).toEqual(Array.from(f.values));
        back.close();
      });
    },
  );

  it.runIf(kernel.available)("refuses blocks of another type and a scale or min not finite", () => {
    if (!kernel.available) return;
    const f = block32Matrix(type, rows, cols, 43);
    const o = { outputs: rows, inputs: cols, bits: 4 as const, blockSize: 32 as const };
    const grid = (file: FileBlocks) => nativeForm(storage, [], [file]);
    const other = { ...f.file, type: type === "Q4_1" ? "Q5_1" : "Q4_1" };
    expect(() => kernel.createLinear({ ...o, weightsGrid: grid(other) })).toThrow(/bytes|do not fit/);
    for (const at of type === "Q5_0" ? [0] : [0, 2]) {
      const nan = f.file.bytes.slice();
      nan.set([0x00, 0x7e], at); // block 0's d, then its m: an fp16 NaN
      expect(() => kernel.createLinear({ ...o, weightsGrid: grid({ ...f.file, bytes: nan }) })).toThrow(
        /not finite/,
      );
    }
  });
});

describe.runIf(loadNativeKernels().available)("Q4_K matrices saved before their scales took 6 bits", () => {
  it("load to the file's values and multiply as a new matrix does", () => {
    const kernel = loadNativeKernels();
    if (!kernel.available) return;
    // Written by the engine of matrix layout 2 (sc and m as bytes) from these very blocks.
    const f = kMatrix("Q4_K", 40, 512, 31);
    const old = kernel.loadLinear(path.join(fixtures, "linear-q4k-layout2.native"));
    const made = kernel.createLinear({
      outputs: 40,
      inputs: 512,
      bits: 4,
      blockSize: 32,
      weightsGrid: nativeForm({ bits: 4, form: "q4k", activationGroup: 256 }, [], [f.file]),
    });
    expect(Array.from(old.weights())).toEqual(Array.from(f.values));
    expect(old.info.bytes).toBe(made.info.bytes);
    const x = Float32Array.from({ length: 512 }, (_, i) => Math.cos(i * 0.21));
    const [a, b] = [new Float32Array(40), new Float32Array(40)];
    old.run(x, a, 1);
    made.run(x, b, 1);
    expect(Array.from(a)).toEqual(Array.from(b));
    old.close();
    made.close();
  });
});

describe.runIf(loadNativeKernels().available)("a stack of K types (llama.cpp's Q4_K q and k, Q6_K v)", () => {
  it("keeps every part's blocks in one matrix", () => {
    const kernel = loadNativeKernels();
    if (!kernel.available) return;
    const parts = [kMatrix("Q4_K", 16, 256, 31), kMatrix("Q4_K", 8, 256, 32), kMatrix("Q6_K", 8, 256, 33)];
    const values = new Float32Array(32 * 256);
    let at = 0;
    for (const p of parts) {
      values.set(p.values, at);
      at += p.values.length;
    }
    const storage = matrixStorage(["Q4_K", "Q4_K", "Q6_K"], 4, 32, true);
    const lin = kernel.createLinear({
      outputs: 32,
      inputs: 256,
      bits: 4,
      blockSize: 32,
      weightsGrid: nativeForm(
        storage,
        [],
        parts.map((p) => p.file),
      ),
    });
    expect(Array.from(lin.weights())).toEqual(Array.from(values));
    // 16 + 8 rows of Q4_K do not end on a group of 16: no bands, one K6 matrix.
    expect(matrixStorage(["Q4_K", "Q4_K", "Q6_K"], 4, 32, true, [16, 8, 8]).bands).toBeUndefined();
    lin.close();
  });

  it("keeps each type in its own form as bands of rows, saved and loaded as they are", () => {
    const kernel = loadNativeKernels();
    if (!kernel.available) return;
    const [cols, shape] = [512, [32, 16, 16]];
    const parts = [
      kMatrix("Q4_K", 32, cols, 41),
      kMatrix("Q4_K", 16, cols, 42),
      kMatrix("Q6_K", 16, cols, 43),
    ];
    const n = 64;
    const values = new Float32Array(n * cols);
    parts.reduce((at, p) => (values.set(p.values, at), at + p.values.length), 0);
    const types = ["Q4_K", "Q4_K", "Q6_K"];
    const storage = matrixStorage(types, 4, 32, true, shape);
    expect(storage.bands?.map((b) => [b.parts, b.rows, b.storage.form])).toEqual([
      [2, 48, "q4k"],
      [1, 16, "k6"],
    ]);
    const stacked = matrixStorage(types, 4, 32, true);
    const o = { outputs: n, inputs: cols, bits: 4 as const, blockSize: 32 as const };
    const files = parts.map((p) => p.file);
    const x = Float32Array.from({ length: 3 * cols }, (_, i) => Math.sin(i * 0.13) * (1 + (i % 5)));
    const one = kernel.createLinear({ ...o, weightsGrid: nativeForm(stacked, [], files) });
    const want = new Float32Array(3 * n);
    one.run(x, want, 3);
    const isas = kernel.kernels.map((k) => ({ "avx512-vnni": "avx512", "avx512-amx": "amx" })[k] ?? k);
    for (const isa of isas) {
      const lin = kernel.createLinear({
        ...o,
        weightsGrid: nativeForm(storage, [], files),
        isa: isa as never,
      });
      expect(Array.from(lin.weights())).toEqual(Array.from(values));
      // Each band at its file's size: Q4_K 18 bytes per 32, Q6_K 26.25; a K6 stack 27.5 for all.
      expect(lin.info.bytes).toBe(48 * cols * (9 / 16) + 16 * cols * (105 / 128));
      expect(matrixFileBytes(n, cols, 4, 32, storage)).toBe(64 + 2 * 64 + lin.info.bytes);
      expect(lin.info.bytes).toBeLessThan(one.info.bytes);
      const y = new Float32Array(3 * n);
      lin.run(x, y, 3);
      // The same integer sums, the K6 stack's two scales per block for Q4_K's one: float rounding apart.
      for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(want[i], 3);
      const file = path.join(tmp.dir, `bands-${isa}.native`);
      lin.save(file);
      expect(statSync(file).size).toBe(
        linearFileBytes(n, cols, 4, 32, { norm: false, bias: false }, storage),
      );
      const back = kernel.loadLinear(file, { isa: isa as never });
      expect(Array.from(back.weights())).toEqual(Array.from(values));
      const z = new Float32Array(3 * n);
      back.run(x, z, 3);
      expect(Array.from(z)).toEqual(Array.from(y));
      back.close();
      lin.close();
    }
    one.close();
    // A band that does not end on a group of 16 rows is the caller's mistake.
    const [a, b] = [kMatrix("Q4_K", 24, cols, 44), kMatrix("Q6_K", 8, cols, 45)];
    const form = {
      bands: [
        nativeForm(storage.bands![0].storage, [], [a.file]),
        nativeForm(storage.bands![1].storage, [], [b.file]),
      ],
    };
    expect(() => kernel.createLinear({ ...o, outputs: 32, weightsGrid: form as never })).toThrow(
      /multiple of 16 rows/,
    );
  });
});
