import { F16_TABLE } from "./gguf-dequant.js";

// The GGUF types whose blocks already lie on the engine's own grid: 32 values, one fp16 scale d, and
// every value an integer n times d (ggml: Q8_0 n = q, Q5_0 n = q - 16, Q4_0 n = q - 8). Their
// scales, carried into the engine's int8/int4 blocks of 32, keep the file's values exactly.
// (Q4_1/Q5_1 and the K-quants add a per-block offset, which these blocks cannot hold: the native
// kernels keep the K-quants from the file's bytes, kernels/addon/src/ggml_blocks.h.)

export interface GridType {
  /** Bytes per block; the fp16 scale is its first two bytes. */
  typeSize: number;
  /** The fewest bits of the engine's formats that hold every n (int4 codes n + 8, int8 codes n + 128). */
  bits: 4 | 8;
}

export const GRID_TYPES: Readonly<Record<string, GridType>> = {
  Q8_0: { typeSize: 34, bits: 8 },
  Q5_0: { typeSize: 22, bits: 8 },
  Q4_0: { typeSize: 18, bits: 4 },
};

export const GRID_BLOCK = 32;

/** A tensor's grid: the scale of block b of row r at scales[r * (cols / 32) + b]. */
export interface TensorGrid {
  /** The file's block type. */
  type: string;
  bits: 4 | 8;
  scales: Float32Array;
}

/** An empty grid for `blocks` blocks of 32 of `type` (GRID_TYPES), or undefined. */
export function emptyGrid(type: string, blocks: number): TensorGrid | undefined {
  const g = GRID_TYPES[type];
  return g ? { type, bits: g.bits, scales: new Float32Array(blocks) } : undefined;
}

/** Fills `grid` from `src`'s whole blocks of its type, the first being block `first` of the file's. */
export function gridInto(grid: TensorGrid, src: Uint8Array, first: number): void {
  gridScalesInto(grid.type, src, grid.scales, first);
}

/** Writes the scales of `src`'s whole blocks of `type` into out[outOffset..]. */
export function gridScalesInto(type: string, src: Uint8Array, out: Float32Array, outOffset: number): void {
  const t = GRID_TYPES[type];
  const nb = Math.floor(src.byteLength / t.typeSize);
  for (let b = 0, o = 0; b < nb; b++, o += t.typeSize)
    out[outOffset + b] = F16_TABLE[src[o] | (src[o + 1] << 8)];
}

/** Rows [start, start + rows) of a grid over `cols` inputs per row. */
export function gridRows(g: TensorGrid, cols: number, start: number, rows: number): TensorGrid {
  const per = cols / GRID_BLOCK;
  return { ...g, scales: g.scales.slice(start * per, (start + rows) * per) };
}
