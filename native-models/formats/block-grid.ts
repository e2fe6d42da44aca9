import { F16_TABLE, scaleMinK4 } from "./gguf-dequant.js";

// The GGUF types whose blocks already lie on the engine's own grid: 32 values, one fp16 scale d, and
// every value an integer n times d (ggml: Q8_0 n = q, Q5_0 n = q - 16, Q4_0 n = q - 8). Their
// scales, carried into the engine's int8/int4 blocks of 32, keep the file's values exactly.
// (Q4_1/Q5_1 and the K-quants add a per-block offset, which these blocks cannot hold.) Q4_K's
// blocks are kept in a form of their own (KBlocks: its scales and mins as the file has them).

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

/**
 * A file's Q4_K (or Q5_K) blocks of a tensor with `cols` inputs per row (a multiple of 256): row r's fp16 d
 * and dmin of superblock s at d[r * cols/256 + s], its 6-bit scale and min of block b (32 inputs)
 * at sc[r * cols/32 + b]; value = (d·sc)·q - dmin·m, q 0..15 (ggml's dequantize_row_q4_K).
 */
export interface KBlocks {
  d: Float32Array;
  dmin: Float32Array;
  sc: Uint8Array;
  m: Uint8Array;
}

/**
 * A file's Q6_K blocks of a tensor with `cols` inputs per row (a multiple of 256): row r's fp16 d
 * of superblock s at d[r * cols/256 + s], the int8 scale of inputs [16i, 16i+16) at
 * sc[r * cols/16 + i]; value = (d·sc)·q, q -32..31 (ggml's dequantize_row_q6_K).
 */
export interface K6Blocks {
  d: Float32Array;
  sc: Int8Array;
}

/** The K-quant types whose blocks the reader gives (KBlocks for Q4_K and Q5_K, K6Blocks for Q6_K). */
export const K_BLOCK_TYPES: Readonly<Record<string, { typeSize: number; bits: 4 | 8 }>> = {
  Q4_K: { typeSize: 144, bits: 4 },
  // Q5_K's header (d, dmin, 12 bytes of scales and mins) is Q4_K's: the same KBlocks.
  Q5_K: { typeSize: 176, bits: 8 },
  Q6_K: { typeSize: 210, bits: 8 },
};

/**
 * A tensor's grid: the scale of block b of row r at scales[r * (cols / 32) + b] (for Q4_K its d·sc,
 * for Q6_K its d, which alone do not give the values: `kblocks` and `k6blocks` do).
 */
export interface TensorGrid {
  /** The file's block type. */
  type: string;
  bits: 4 | 8;
  scales: Float32Array;
  kblocks?: KBlocks;
  k6blocks?: K6Blocks;
}

/** An empty grid for `blocks` blocks of 32 of `type` (GRID_TYPES or K_BLOCK_TYPES), or undefined. */
export function emptyGrid(type: string, blocks: number): TensorGrid | undefined {
  const g = GRID_TYPES[type] ?? K_BLOCK_TYPES[type];
  if (!g) return undefined;
  const scales = new Float32Array(blocks);
  if (!K_BLOCK_TYPES[type]) return { type, bits: g.bits, scales };
  const supers = blocks / 8;
  if (type === "Q6_K")
    return {
      type,
      bits: g.bits,
      scales,
      k6blocks: { d: new Float32Array(supers), sc: new Int8Array(blocks * 2) },
    };
  const kblocks = {
    d: new Float32Array(supers),
    dmin: new Float32Array(supers),
    sc: new Uint8Array(blocks),
    m: new Uint8Array(blocks),
  };
  return { type, bits: g.bits, scales, kblocks };
}

/** Fills `grid` from `src`'s whole blocks of its type, the first being block `first` of the file's (blocks of that type). */
export function gridInto(grid: TensorGrid, src: Uint8Array, first: number): void {
  if (grid.k6blocks) return q6kInto(grid, src, first);
  if (!grid.kblocks) return gridScalesInto(grid.type, src, grid.scales, first);
  const k = grid.kblocks;
  const sm = new Float64Array(2);
  const size = K_BLOCK_TYPES[grid.type].typeSize;
  for (let s = 0, o = 0; o + size <= src.byteLength; s++, o += size) {
    const at = first + s;
    k.d[at] = F16_TABLE[src[o] | (src[o + 1] << 8)];
    k.dmin[at] = F16_TABLE[src[o + 2] | (src[o + 3] << 8)];
    for (let j = 0; j < 8; j++) {
      scaleMinK4(src, o + 4, j, sm);
      k.sc[at * 8 + j] = sm[0];
      k.m[at * 8 + j] = sm[1];
      grid.scales[at * 8 + j] = k.d[at] * sm[0];
    }
  }
}

/** Writes the scales of `src`'s whole blocks of `type` into out[outOffset..]. */
export function gridScalesInto(type: string, src: Uint8Array, out: Float32Array, outOffset: number): void {
  const t = GRID_TYPES[type];
  const nb = Math.floor(src.byteLength / t.typeSize);
  for (let b = 0, o = 0; b < nb; b++, o += t.typeSize)
    out[outOffset + b] = F16_TABLE[src[o] | (src[o + 1] << 8)];
}

/** Q6_K: 128 + 64 bytes of codes, 16 int8 scales, fp16 d (ggml's block_q6_K). */
function q6kInto(grid: TensorGrid, src: Uint8Array, first: number): void {
  const k = grid.k6blocks!;
  const s8 = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  for (let s = 0, o = 0; o + 210 <= src.byteLength; s++, o += 210) {
    const at = first + s;
    k.d[at] = F16_TABLE[src[o + 208] | (src[o + 209] << 8)];
    for (let i = 0; i < 16; i++) k.sc[at * 16 + i] = s8[o + 192 + i];
    grid.scales.fill(k.d[at], at * 8, at * 8 + 8);
  }
}

/** Rows [start, start + rows) of a grid over `cols` inputs per row. */
export function gridRows(g: TensorGrid, cols: number, start: number, rows: number): TensorGrid {
  const per = cols / GRID_BLOCK;
  const cut = <T extends Float32Array | Uint8Array | Int8Array>(a: T, n: number) =>
    a.slice(start * n, (start + rows) * n) as T;
  const out: TensorGrid = { ...g, scales: cut(g.scales, per) };
  if (g.kblocks) {
    const k = g.kblocks;
    out.kblocks = { d: cut(k.d, per / 8), dmin: cut(k.dmin, per / 8), sc: cut(k.sc, per), m: cut(k.m, per) };
  }
  if (g.k6blocks) out.k6blocks = { d: cut(g.k6blocks.d, per / 8), sc: cut(g.k6blocks.sc, per * 2) };
  return out;
}
