import { noteAllocation, type BinaryFile } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { dequantLayout, dequantizeInto } from "./gguf-dequant.js";
import { emptyGrid, gridInto, type TensorGrid } from "./block-grid.js";

// Reads one tensor's bytes in bounded chunks and dequantizes them straight into the output, so the
// extra memory is one chunk, not a second copy of the tensor.

const CHUNK_BYTES = 16 << 20;

/** The tensor as float32, with its block grid (block-grid.ts) when its type has one. */
export interface DequantizedTensor {
  values: Float32Array;
  grid?: TensorGrid;
}

export async function readDequantized(
  file: BinaryFile,
  offset: number,
  type: string,
  nElements: number,
  label: string,
): Promise<Float32Array> {
  return (await readWithGrid(file, offset, type, nElements, label)).values;
}

export async function readWithGrid(
  file: BinaryFile,
  offset: number,
  type: string,
  nElements: number,
  label: string,
): Promise<DequantizedTensor> {
  const layout = dequantLayout(type);
  if (!layout)
    throw new ModelFormatError(
      "unsupported_type",
      `tensor ${label} has type ${type}, which cannot be dequantized`,
      file.path,
    );
  const nBlocks = nElements / layout.blockSize;
  if (!Number.isInteger(nBlocks))
    throw new ModelFormatError(
      "bad_tensor",
      `tensor ${label}: ${nElements} values are not whole ${type} blocks`,
      file.path,
    );
  const byteSize = nBlocks * layout.typeSize;
  file.checkRange(offset, byteSize, `tensor ${label}`);
  let out: Float32Array;
  noteAllocation(nElements * 4, `tensor ${label} as float32`);
  try {
    out = new Float32Array(nElements);
  } catch {
    throw new ModelFormatError(
      "too_large",
      `tensor ${label} has ${nElements} values, too many to hold as float32 at once`,
      file.path,
    );
  }
  const blocksPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / layout.typeSize));
  noteAllocation(Math.min(nBlocks, blocksPerChunk) * layout.typeSize, `tensor ${label} read buffer`);
  const buf = Buffer.allocUnsafe(Math.min(nBlocks, blocksPerChunk) * layout.typeSize);
  // In blocks of 32 (a Q4_K block of 256 holds eight).
  const grid: TensorGrid | undefined = emptyGrid(type, (nBlocks * layout.blockSize) / 32);
  let nonFinite = 0;
  for (let b = 0; b < nBlocks; b += blocksPerChunk) {
    const k = Math.min(blocksPerChunk, nBlocks - b);
    const chunk = buf.subarray(0, k * layout.typeSize);
    await file.readInto(chunk, offset + b * layout.typeSize, `tensor ${label}`);
    nonFinite += dequantizeInto(type, chunk, out, b * layout.blockSize, file.path);
    if (grid) gridInto(grid, chunk, b);
  }
  refuseNonFinite(nonFinite, layout.blockSize, label, file.path);
  return { values: out, ...(grid ? { grid } : {}) };
}

/** Throws the error for a tensor with `count` non-finite blocks (or, blockSize 1, elements). */
export function refuseNonFinite(count: number, blockSize: number, label: string, filePath: string): void {
  if (count === 0) return;
  const what = blockSize === 1 ? "NaN or infinite values" : "blocks with a NaN or infinite scale";
  throw new ModelFormatError(
    "bad_tensor",
    `tensor ${label} contains ${count} ${what}; the file is corrupt`,
    filePath,
  );
}

/** Byte offsets of the fp16 scales (d, and dmin or m where the type has one) in a block of each type. */
export const SCALE_AT: Readonly<Record<string, readonly number[]>> = {
  Q4_0: [0],
  Q5_0: [0],
  Q8_0: [0],
  Q4_1: [0, 2],
  Q5_1: [0, 2],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
};

/**
 * Refuses a tensor's blocks, read as the file holds them, whose scale is NaN or infinite (or, for
 * float types, an element), with the message dequantizing them gives (the native import lays
 * blocks out without dequantizing).
 */
export function checkBlockScales(type: string, bytes: Uint8Array, label: string, filePath: string): void {
  const layout = dequantLayout(type);
  const at = SCALE_AT[type];
  const bad = NON_FINITE[type];
  if (!layout || (!at && !bad)) return;
  let count = 0;
  const size = layout.typeSize;
  const end = bytes.byteLength - size;
  if (at) {
    // The high bytes of the (one or two) fp16 scales; an import checks every block of the file.
    const hi = at[0] + 1;
    const hi2 = (at[1] ?? at[0]) + 1;
    for (let o = 0; o <= end; o += size)
      if ((bytes[o + hi] & 0x7c) === 0x7c || (bytes[o + hi2] & 0x7c) === 0x7c) count++;
  } else for (let o = 0; o <= end; o += size) if (bad(bytes, o)) count++;
  refuseNonFinite(count, layout.blockSize, label, filePath);
}

/** Whether the float element at byte o is NaN or infinite (its exponent all ones; little-endian). */
const NON_FINITE: Readonly<Record<string, (b: Uint8Array, o: number) => boolean>> = {
  F32: (b, o) => (b[o + 3] & 0x7f) === 0x7f && (b[o + 2] & 0x80) !== 0,
  F16: (b, o) => (b[o + 1] & 0x7c) === 0x7c,
  BF16: (b, o) => (b[o + 1] & 0x7f) === 0x7f && (b[o] & 0x80) !== 0,
};
