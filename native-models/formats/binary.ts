import { open, stat, type FileHandle } from "node:fs/promises";
import { ModelFormatError } from "./errors.js";

// Bounded little-endian reading over a file handle. Model files run to several GB, so nothing here
// loads a whole file: reads are positional, and every length, count and offset that comes from the
// file is checked against what the file can actually hold BEFORE anything is allocated for it.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Called with the size of every allocation whose size comes from a file, before it is made. A no-op
 * in production; the fuzzer installs a checker that fails a case whose allocations exceed what its
 * input could legitimately need (proof that no allocation is driven by an unvalidated size).
 */
export let noteAllocation: (bytes: number, what: string) => void = () => undefined;
export function setAllocationObserver(fn: ((bytes: number, what: string) => void) | undefined): void {
  noteAllocation = fn ?? (() => undefined);
}

/** A 64-bit value from the file as a JS number, or a too_large error naming what it was. */
export function safeNumber(v: bigint, what: string, file: string): number {
  if (v < 0n || v > MAX_SAFE)
    throw new ModelFormatError("too_large", `${what} is ${v}, which is not a usable size or offset`, file);
  return Number(v);
}

/** Product of non-negative integer dims, or too_large when it would exceed `limit`. */
export function checkedProduct(dims: readonly number[], limit: number, what: string, file: string): number {
  let p = 1n;
  for (const d of dims) {
    p *= BigInt(d);
    if (p > BigInt(limit))
      throw new ModelFormatError(
        "too_large",
        `${what}: shape [${dims.join(", ")}] is larger than the file can hold`,
        file,
      );
  }
  return Number(p);
}

export class BinaryFile {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<BinaryFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (e) {
      throw fsError(e, path);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new ModelFormatError("unknown_format", "not a regular file", path);
      return new BinaryFile(fh, st.size, path);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e instanceof ModelFormatError ? e : fsError(e, path);
    }
  }

  /** Reads exactly `length` bytes at `offset`, or fails with `truncated` naming `what`. */
  async readAt(offset: number, length: number, what: string): Promise<Buffer> {
    this.checkRange(offset, length, what);
    noteAllocation(length, what);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      // The file shrank under us (or a short read at EOF): report it as truncation, never return garbage.
      if (bytesRead === 0)
        throw new ModelFormatError("truncated", `file ended while reading ${what}`, this.path);
      done += bytesRead;
    }
    return buf;
  }

  /** Reads into an existing buffer (for streaming large tensors without re-allocating). */
  async readInto(buf: Uint8Array, offset: number, what: string): Promise<void> {
    this.checkRange(offset, buf.byteLength, what);
    let done = 0;
    while (done < buf.byteLength) {
      const { bytesRead } = await this.fh.read(buf, done, buf.byteLength - done, offset + done);
      if (bytesRead === 0)
        throw new ModelFormatError("truncated", `file ended while reading ${what}`, this.path);
      done += bytesRead;
    }
  }

  checkRange(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new ModelFormatError("out_of_bounds", `${what}: invalid range ${offset}+${length}`, this.path);
    }
    if (offset + length > this.size) {
      throw new ModelFormatError(
        "truncated",
        `${what} needs bytes ${offset}..${offset + length} but the file is only ${this.size} bytes`,
        this.path,
      );
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

export function fsError(e: unknown, path: string): ModelFormatError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "ENOTDIR")
    return new ModelFormatError("not_found", "no such file or folder", path);
  if (code === "EISDIR")
    return new ModelFormatError("unknown_format", "expected a file but found a folder", path);
  if (code === "EACCES" || code === "EPERM")
    return new ModelFormatError("not_found", "permission denied", path);
  return new ModelFormatError("not_found", `cannot read: ${(e as Error)?.message ?? String(e)}`, path);
}

export async function statOrNull(path: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/**
 * Sequential little-endian reader with a read-ahead window. Metadata holds hundreds of thousands of
 * small values (token lists), so reading each one positionally would be slow; the window is refilled
 * from the file only when a value crosses its end. `need(n)` fails before allocating if the file
 * cannot hold n more bytes.
 */
export class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    readonly file: BinaryFile,
    public pos: number,
    private readonly window = 1 << 20,
  ) {}

  get remaining(): number {
    return this.file.size - this.pos;
  }

  async need(n: number, what: string): Promise<void> {
    if (n > this.remaining) {
      throw new ModelFormatError(
        "truncated",
        `file ends at byte ${this.file.size} while reading ${what} at byte ${this.pos} (needs ${n} bytes, ${this.remaining} left)`,
        this.file.path,
      );
    }
    const off = this.pos - this.bufStart;
    if (off >= 0 && off + n <= this.buf.length) return;
    const len = Math.min(Math.max(n, this.window), this.remaining);
    this.buf = await this.file.readAt(this.pos, len, what);
    this.bufStart = this.pos;
  }

  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  // Synchronous getters: only valid after need() covered them.
  u8(): number {
    return this.buf.readUInt8(this.at(1));
  }
  i8(): number {
    return this.buf.readInt8(this.at(1));
  }
  u16(): number {
    return this.buf.readUInt16LE(this.at(2));
  }
  i16(): number {
    return this.buf.readInt16LE(this.at(2));
  }
  u32(): number {
    return this.buf.readUInt32LE(this.at(4));
  }
  i32(): number {
    return this.buf.readInt32LE(this.at(4));
  }
  f32(): number {
    return this.buf.readFloatLE(this.at(4));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.at(8));
  }
  u64(): bigint {
    return this.buf.readBigUInt64LE(this.at(8));
  }
  i64(): bigint {
    return this.buf.readBigInt64LE(this.at(8));
  }
  /** A view of the next n bytes (valid until the next need()). */
  view(n: number): Buffer {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }

  async readU32(what: string): Promise<number> {
    await this.need(4, what);
    return this.u32();
  }

  async readU64(what: string): Promise<bigint> {
    await this.need(8, what);
    return this.u64();
  }

  /** The next string when its length and bytes are already in the window (no await), else undefined. */
  stringIfBuffered(maxBytes: number): string | undefined {
    const o = this.pos - this.bufStart;
    if (o < 0 || o + 8 > this.buf.length) return undefined;
    const len = this.buf.readBigUInt64LE(o);
    if (len > BigInt(Math.min(maxBytes, this.buf.length - o - 8))) return undefined;
    const n = Number(len);
    this.pos += 8 + n;
    // Buffer#toString is much faster than TextDecoder on short strings; both replace invalid UTF-8 with U+FFFD.
    return n === 0 ? "" : this.buf.toString("utf8", o + 8, o + 8 + n);
  }

  /** u64 length + UTF-8 bytes. The length is checked against the file and `maxBytes` first. */
  async readString(what: string, maxBytes: number): Promise<string> {
    const len = await this.readU64(`${what} length`);
    if (len > BigInt(this.remaining)) {
      throw new ModelFormatError(
        "truncated",
        `${what} claims ${len} bytes but only ${this.remaining} remain in the file`,
        this.file.path,
      );
    }
    if (len > BigInt(maxBytes)) {
      throw new ModelFormatError("too_large", `${what} is ${len} bytes (limit ${maxBytes})`, this.file.path);
    }
    const n = Number(len);
    await this.need(n, what);
    // Lossy decoding on purpose: llama.cpp treats strings as raw bytes, and one odd token must not
    // make a whole model unreadable.
    return this.view(n).toString("utf8");
  }
}
