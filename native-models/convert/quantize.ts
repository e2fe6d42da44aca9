// Block quantization into onnxruntime's MatMulNBits layout (com.microsoft).
//
// W is [N, K] row-major (y = W x, N outputs, K inputs). Each row is cut into blocks of
// `blockSize` consecutive inputs; a block stores one float scale and (for int4) one 4-bit zero
// point, and its values as unsigned codes: w ≈ (code - zeroPoint) * scale.
//   B:           uint8 [N, kBlocks, blockSize * bits / 8]; 4-bit: element j in byte j>>1, low nibble first
//   scales:      float32 [N * kBlocks]
//   zero_points: uint8 [N * ceil(kBlocks * bits / 8)], 4-bit packed per row, low nibble first
//                (omitted for int8: symmetric with the implicit zero point 128)

export type NBits = 4 | 8;

export interface QuantizedMatrix {
  bits: NBits;
  blockSize: number;
  n: number;
  k: number;
  kBlocks: number;
  data: Uint8Array;
  scales: Float32Array;
  zeroPoints?: Uint8Array;
}

/** The shape and bytes of W [n, k] in this layout: the one rule for writing and for sizing. */
export function quantizedShape(n: number, k: number, bits: NBits, blockSize: number) {
  const kBlocks = Math.ceil(k / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const zpRowBytes = Math.ceil(kBlocks / 2);
  return {
    kBlocks,
    blobSize,
    zpRowBytes,
    dataBytes: n * kBlocks * blobSize,
    scalesBytes: n * kBlocks * 4,
    zeroPointBytes: bits === 4 ? n * zpRowBytes : 0,
  };
}

/**
 * `grid` (source-grid.ts): the file's own block scales, one per 32 inputs of each row; its blocks
 * keep scale s and codes n + zp (zp 8 for int4), the file's values exactly.
 */
export function quantizeMatrix(
  w: Float32Array,
  n: number,
  k: number,
  bits: NBits,
  blockSize: number,
  grid?: Float32Array,
): QuantizedMatrix {
  if (w.length !== n * k) throw new Error(`quantizeMatrix: expected ${n}x${k} values, got ${w.length}`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new Error(`block size ${blockSize} must be a power of two ≥ 16`);
  if (grid && (blockSize !== 32 || grid.length !== n * Math.ceil(k / 32)))
    throw new Error(`quantizeMatrix: a grid needs blockSize 32 and ${n * Math.ceil(k / 32)} scales`);
  const { kBlocks, blobSize, zpRowBytes, dataBytes, zeroPointBytes } = quantizedShape(n, k, bits, blockSize);
  const data = new Uint8Array(dataBytes);
  const scales = new Float32Array(n * kBlocks);
  const zeroPoints = bits === 4 ? new Uint8Array(zeroPointBytes) : undefined;
  const codes = new Uint8Array(blockSize);

  for (let row = 0; row < n; row++) {
    const rowStart = row * k;
    for (let b = 0; b < kBlocks; b++) {
      const start = rowStart + b * blockSize;
      const end = Math.min(start + blockSize, rowStart + k);
      const blockIndex = row * kBlocks + b;
      codes.fill(bits === 4 ? 0 : 128);
      // A grid block keeps the file's scale and codes; otherwise the block is rounded here.
      const zp = grid
        ? quantizeBlockOnGrid(w, start, end, bits, grid[blockIndex], codes, scales, blockIndex)
        : bits === 4
          ? quantizeBlockAsym4(w, start, end, codes, scales, blockIndex)
          : quantizeBlockSym8(w, start, end, codes, scales, blockIndex);
      if (bits === 4) {
        zeroPoints![row * zpRowBytes + (b >> 1)] |= b & 1 ? zp << 4 : zp;
        // Padding past K must dequantize to zero: give it the zero point's code.
        for (let j = end - start; j < blockSize; j++) codes[j] = zp;
        const out = blockIndex * blobSize;
        for (let j = 0; j < blockSize; j += 2) data[out + (j >> 1)] = codes[j] | (codes[j + 1] << 4);
      } else {
        data.set(codes, blockIndex * blobSize);
      }
    }
  }
  return { bits, blockSize, n, k, kBlocks, data, scales, zeroPoints };
}

/** A grid block's int4 zero point: Q4_0's codes 0..15 stand for n = code - 8. */
const GRID_ZP4 = 8;

/** Codes n + zp for a block whose values are n·scale (the file's grid); throws if one is not. Returns zp. */
function quantizeBlockOnGrid(
  w: Float32Array,
  start: number,
  end: number,
  bits: NBits,
  scale: number,
  codes: Uint8Array,
  scales: Float32Array,
  blockIndex: number,
): number {
  const zp = bits === 4 ? GRID_ZP4 : 128;
  const top = bits === 4 ? 15 : 255;
  codes.fill(zp);
  for (let i = start; i < end; i++) {
    const n = scale === 0 ? 0 : Math.round(w[i] / scale);
    if (n * scale !== w[i] || n + zp < 0 || n + zp > top)
      throw new Error(`quantizeMatrix: value ${w[i]} is not on its block's grid (scale ${scale})`);
    codes[i - start] = n + zp;
  }
  scales[blockIndex] = scale;
  return zp;
}

/** Asymmetric 4-bit: the block's range [min(0,lo), max(0,hi)] maps onto codes 0..15. Returns the zero point. */
function quantizeBlockAsym4(
  w: Float32Array,
  start: number,
  end: number,
  codes: Uint8Array,
  scales: Float32Array,
  blockIndex: number,
): number {
  let lo = 0;
  let hi = 0;
  for (let i = start; i < end; i++) {
    const v = w[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = (hi - lo) / 15;
  if (scale === 0) {
    scales[blockIndex] = 1;
    codes.fill(8, 0, end - start);
    return 8;
  }
  const zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
  const inv = 1 / scale;
  for (let i = start; i < end; i++) {
    const q = Math.round(w[i] * inv) + zp;
    codes[i - start] = q < 0 ? 0 : q > 15 ? 15 : q;
  }
  scales[blockIndex] = scale;
  return zp;
}

/** Symmetric 8-bit around 128: scale = absmax / 127. Returns the implicit zero point, 128. */
function quantizeBlockSym8(
  w: Float32Array,
  start: number,
  end: number,
  codes: Uint8Array,
  scales: Float32Array,
  blockIndex: number,
): number {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(w[i]);
    if (a > amax) amax = a;
  }
  const scale = amax / 127;
  if (scale === 0) {
    scales[blockIndex] = 1;
    return 128;
  }
  const inv = 1 / scale;
  for (let i = start; i < end; i++) {
    const q = Math.round(w[i] * inv);
    codes[i - start] = (q < -127 ? -127 : q > 127 ? 127 : q) + 128;
  }
  scales[blockIndex] = scale;
  return 128;
}

/** Dequantizes one row (used for embedding lookups and the reduced LM head). */
export function dequantizeRow(q: QuantizedMatrix, row: number, out: Float32Array, outOffset = 0): void {
  const blobSize = (q.blockSize * q.bits) / 8;
  const zpRowBytes = Math.ceil(q.kBlocks / 2);
  for (let b = 0; b < q.kBlocks; b++) {
    const blockIndex = row * q.kBlocks + b;
    const scale = q.scales[blockIndex];
    const base = blockIndex * blobSize;
    const kStart = b * q.blockSize;
    const count = Math.min(q.blockSize, q.k - kStart);
    if (q.bits === 4) {
      const zpByte = q.zeroPoints ? q.zeroPoints[row * zpRowBytes + (b >> 1)] : 0x88;
      const zp = b & 1 ? zpByte >> 4 : zpByte & 15;
      for (let j = 0; j < count; j++) {
        const byte = q.data[base + (j >> 1)];
        const code = j & 1 ? byte >> 4 : byte & 15;
        out[outOffset + kStart + j] = (code - zp) * scale;
      }
    } else {
      for (let j = 0; j < count; j++) out[outOffset + kStart + j] = (q.data[base + j] - 128) * scale;
    }
  }
}
