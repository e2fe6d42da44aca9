// Which of the file's block grids (formats/block-grid.ts) a conversion can keep: the engine's
// blocks of 32 hold a grid exactly at the grid's own bits or more. Everything else is quantized
// from the values (a float source, a K-quant block, or a grid finer than the target bits).
import { GRID_TYPES, type TensorGrid } from "../formats/block-grid.js";
import type { TensorInfo, TensorName } from "../formats/model-source.js";
import type { NBits } from "./quantize.js";

/** The block size a kept grid needs. */
export const GRID_BLOCK_SIZE = 32;

/** The scales of `parts` stacked row-wise, when every part has a grid these bits and block size hold. */
export function keptGrid(
  bits: NBits,
  blockSize: number,
  ...parts: (TensorGrid | undefined)[]
): Float32Array | undefined {
  if (blockSize !== GRID_BLOCK_SIZE || parts.some((g) => !g || g.bits > bits)) return undefined;
  if (parts.length === 1) return parts[0]!.scales;
  const out = new Float32Array(parts.reduce((n, g) => n + g!.scales.length, 0));
  let at = 0;
  for (const g of parts) {
    out.set(g!.scales, at);
    at += g!.scales.length;
  }
  return out;
}

/** Whether a conversion at these bits and block size keeps this source tensor's grid (from its type alone). */
export function keepsGrid(t: TensorInfo | undefined, bits: NBits, blockSize: number): boolean {
  const g = t && GRID_TYPES[t.sourceType];
  return !!g && g.bits <= bits && blockSize === GRID_BLOCK_SIZE;
}

/** Bits per weight of the ggml types a file may hold (block bytes × 8 / block values). */
const TYPE_BITS: Readonly<Record<string, number>> = {
  F32: 32,
  F16: 16,
  BF16: 16,
  Q8_0: 8.5,
  Q5_0: 5.5,
  Q5_1: 6,
  Q4_0: 4.5,
  Q4_1: 5,
  Q4_K: 4.5,
  Q5_K: 5.5,
  Q6_K: 6.5625,
};

const FLOAT_TYPES = new Set(["F32", "F16", "BF16"]);

/** The source's weight matrices: what the conversion quantizes (norms and biases stay float). */
function matrices(tensors: ReadonlyMap<TensorName, TensorInfo>): TensorInfo[] {
  return [...tensors.values()].filter((t) => t.shape.length === 2);
}

/**
 * The quantization that keeps a quantized file as it is, or undefined for a float file (the
 * engine's default by size applies). int4 when the file's matrices are 4-bit blocks on the
 * average (Q4_0 keeps its values exactly; the K-quants are rounded again at block 32, the
 * nearest the int4 kernels come until they compute on K blocks), int8 for anything wider (Q5_0
 * and Q8_0 keep their values exactly).
 */
export function fileQuant(tensors: ReadonlyMap<TensorName, TensorInfo>): NBits | undefined {
  const m = matrices(tensors).filter((t) => !t.name.startsWith("embed"));
  if (m.every((t) => FLOAT_TYPES.has(t.sourceType))) return undefined;
  let values = 0;
  let bits = 0;
  for (const t of m) {
    const n = t.shape[0] * t.shape[1];
    values += n;
    bits += n * (TYPE_BITS[t.sourceType] ?? 16);
  }
  return bits / values <= 5 ? 4 : 8;
}

/** Of the source's matrices, how many a package in this quantization keeps exactly, and the file's block types. */
export function keptMatrices(
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  quant: "int4" | "int8" | "f16" | "f32",
  blockSize: number,
): { kept: number; of: number; types: string[] } {
  const m = matrices(tensors);
  const keeps = (t: TensorInfo) => {
    if (quant === "f32") return true;
    // The embedding is int8 blocks of 32 in every integer package.
    if (quant === "f16") return t.sourceType === "F16";
    return t.name === "embed"
      ? keepsGrid(t, 8, GRID_BLOCK_SIZE)
      : keepsGrid(t, quant === "int4" ? 4 : 8, blockSize);
  };
  return {
    kept: m.filter(keeps).length,
    of: m.length,
    types: [...new Set(m.map((t) => t.sourceType))].sort(),
  };
}
