// Row access to a matrix stored in a package file (the embedding table, the LM head), dequantized
// on demand: the runtime needs one embedding row per token and a handful of LM-head rows per
// early-exit check, never the whole float32 matrix.
import { open } from "node:fs/promises";
import path from "node:path";
import type { StoredMatrix } from "../package/manifest.js";
import { dequantizeRow, type QuantizedMatrix } from "../convert/quantize.js";

export class MatrixRows {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    private readonly readRow: (row: number, out: Float32Array, offset: number) => void,
  ) {}

  static async load(dir: string, m: StoredMatrix): Promise<MatrixRows> {
    const file = await open(path.join(dir, m.file), "r");
    try {
      const read = async (r: { offset: number; length: number }) => {
        const buf = Buffer.alloc(r.length);
        await file.read(buf, 0, r.length, r.offset);
        return buf;
      };
      const data = await read(m.data);
      const { rows, cols } = m;
      switch (m.type) {
        case "int4":
        case "int8": {
          const scalesBuf = await read(m.scales!);
          const q: QuantizedMatrix = {
            bits: m.type === "int4" ? 4 : 8,
            blockSize: m.blockSize,
            n: rows,
            k: cols,
            kBlocks: Math.ceil(cols / m.blockSize),
            data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
            scales: new Float32Array(scalesBuf.buffer, scalesBuf.byteOffset, scalesBuf.byteLength / 4),
            zeroPoints: m.zeroPoints ? new Uint8Array(await read(m.zeroPoints)) : undefined,
          };
          return new MatrixRows(rows, cols, (row, out, offset) => dequantizeRow(q, row, out, offset));
        }
        case "f32": {
          const f = aligned(data, Float32Array);
          return new MatrixRows(rows, cols, (row, out, offset) => out.set(f.subarray(row * cols, (row + 1) * cols), offset));
        }
        case "f16": {
          const h = aligned(data, Uint16Array);
          return new MatrixRows(rows, cols, (row, out, offset) => {
            for (let j = 0; j < cols; j++) out[offset + j] = halfToFloat(h[row * cols + j]);
          });
        }
        case "f32-transposed": {
          // Stored [cols, rows] for MatMul: row r of W is column r here.
          const f = aligned(data, Float32Array);
          return new MatrixRows(rows, cols, (row, out, offset) => {
            for (let j = 0; j < cols; j++) out[offset + j] = f[j * rows + row];
          });
        }
        case "f16-transposed": {
          const h = aligned(data, Uint16Array);
          return new MatrixRows(rows, cols, (row, out, offset) => {
            for (let j = 0; j < cols; j++) out[offset + j] = halfToFloat(h[j * rows + row]);
          });
        }
      }
    } finally {
      await file.close();
    }
  }

  row(r: number, out = new Float32Array(this.cols), offset = 0): Float32Array {
    if (!Number.isInteger(r) || r < 0 || r >= this.rows) throw new RangeError(`row ${r} outside 0..${this.rows - 1}`);
    this.readRow(r, out, offset);
    return out;
  }

  /** Rows for a sequence of ids, concatenated: the embedding lookup. */
  gather(ids: readonly number[]): Float32Array {
    const out = new Float32Array(ids.length * this.cols);
    ids.forEach((id, i) => this.row(id, out, i * this.cols));
    return out;
  }
}

function aligned<T extends Float32Array | Uint16Array>(buf: Buffer, Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return new Ctor(copy);
}

const HALF_EXP = new Float32Array(32).map((_, e) => Math.pow(2, e - 15));

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 5.960464477539063e-8; // 2^-24
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * HALF_EXP[exp];
}
