// Row access to a matrix stored in a package file (the embedding table, the LM head), read and
// dequantized on demand with positional reads: the runtime needs one embedding row per token and
// a handful of LM-head rows per early-exit check, so neither table is held in memory (the OS page
// cache keeps hot rows; that is not the process's resident memory).
import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";
import type { StoredMatrix } from "../package/manifest.js";
import { dequantizeRow, type QuantizedMatrix } from "../convert/quantize.js";
import { dequantizeInto, dequantLayout } from "../formats/gguf-dequant.js";

type Range = { offset: number; length: number };

/** Row r of a matrix, dequantized into out[offset, offset + cols). */
export interface RowSource {
  row(r: number, out: Float32Array, offset: number): void;
}

export class MatrixRows implements RowSource {
  private readonly fd: number;
  private readonly buf: Buffer;
  private readonly readRow: (row: number, out: Float32Array, offset: number) => void;

  constructor(
    dir: string,
    readonly spec: StoredMatrix,
  ) {
    this.fd = openSync(path.join(dir, spec.file), "r");
    const { rows, cols, type } = spec;
    const bytes = (off: number, len: number) => {
      if (readSync(this.fd, this.buf, 0, len, off) !== len)
        throw new Error(`${spec.file}: short read at ${off}`);
      return this.buf;
    };
    switch (type) {
      case "int4":
      case "int8": {
        const bits = type === "int4" ? 4 : 8;
        const kBlocks = Math.ceil(cols / spec.blockSize);
        const rowBytes = (kBlocks * spec.blockSize * bits) / 8;
        const scales = spec.scales!;
        const zp = spec.zeroPoints;
        const zpRowBytes = Math.ceil(kBlocks / 2);
        this.buf = Buffer.alloc(rowBytes + kBlocks * 4 + zpRowBytes + 16);
        // A one-row QuantizedMatrix view over the scratch buffer, so dequantizeRow does the math.
        const one: QuantizedMatrix = {
          bits,
          blockSize: spec.blockSize,
          n: 1,
          k: cols,
          kBlocks,
          data: new Uint8Array(this.buf.buffer, this.buf.byteOffset, rowBytes),
          scales: new Float32Array(kBlocks),
          zeroPoints: zp ? new Uint8Array(zpRowBytes) : undefined,
        };
        const scaleBytes = Buffer.alloc(kBlocks * 4);
        const scaleView = new Float32Array(scaleBytes.buffer, scaleBytes.byteOffset, kBlocks);
        const zpBytes = Buffer.alloc(zpRowBytes);
        this.readRow = (row, out, offset) => {
          bytes(spec.data.offset + row * rowBytes, rowBytes);
          readExact(this.fd, scaleBytes, scales.offset + row * kBlocks * 4);
          one.scales.set(scaleView);
          if (zp && one.zeroPoints) {
            readExact(this.fd, zpBytes, zp.offset + row * zpRowBytes);
            one.zeroPoints.set(zpBytes);
          }
          dequantizeRow(one, 0, out, offset);
        };
        break;
      }
      case "ggml": {
        const layout = spec.ggmlType ? dequantLayout(spec.ggmlType) : undefined;
        if (!layout || cols % layout.blockSize !== 0)
          throw new Error(`${spec.file}: rows of ggml type ${spec.ggmlType} cannot be read`);
        const rowBytes = (cols / layout.blockSize) * layout.typeSize;
        this.buf = Buffer.alloc(rowBytes);
        this.readRow = (row, out, offset) => {
          dequantizeInto(
            spec.ggmlType!,
            bytes(spec.data.offset + row * rowBytes, rowBytes),
            out,
            offset,
            spec.file,
          );
        };
        break;
      }
      case "f32":
      case "f16": {
        const width = type === "f32" ? 4 : 2;
        this.buf = Buffer.alloc(cols * width);
        this.readRow = (row, out, offset) => {
          const b = bytes(spec.data.offset + row * cols * width, cols * width);
          for (let j = 0; j < cols; j++)
            out[offset + j] = width === 4 ? b.readFloatLE(j * 4) : halfToFloat(b.readUInt16LE(j * 2));
        };
        break;
      }
      case "f32-transposed":
      case "f16-transposed": {
        // Stored [cols, rows] for MatMul: row r of W is a strided column here (used for small models only).
        const width = type === "f32-transposed" ? 4 : 2;
        this.buf = Buffer.alloc(width);
        this.readRow = (row, out, offset) => {
          for (let j = 0; j < cols; j++) {
            const b = bytes(spec.data.offset + (j * rows + row) * width, width);
            out[offset + j] = width === 4 ? b.readFloatLE(0) : halfToFloat(b.readUInt16LE(0));
          }
        };
        break;
      }
    }
  }

  get rows(): number {
    return this.spec.rows;
  }

  get cols(): number {
    return this.spec.cols;
  }

  row(r: number, out: Float32Array = new Float32Array(this.cols), offset = 0): Float32Array {
    if (!Number.isInteger(r) || r < 0 || r >= this.rows)
      throw new RangeError(`row ${r} outside 0..${this.rows - 1}`);
    this.readRow(r, out, offset);
    return out;
  }

  /** Rows for a sequence of ids, concatenated: the embedding lookup. */
  gather(ids: readonly number[]): Float32Array {
    const out = new Float32Array(ids.length * this.cols);
    ids.forEach((id, i) => this.row(id, out, i * this.cols));
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function readExact(fd: number, into: Buffer, position: number): void {
  if (readSync(fd, into, 0, into.length, position) !== into.length)
    throw new Error(`short read at ${position}`);
}

/** A whole small vector (a norm's weights) from a package file. */
export function readFloats(dir: string, r: Range & { file: string }): Float32Array {
  const fd = openSync(path.join(dir, r.file), "r");
  try {
    const b = Buffer.alloc(r.length);
    readExact(fd, b, r.offset);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } finally {
    closeSync(fd);
  }
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
