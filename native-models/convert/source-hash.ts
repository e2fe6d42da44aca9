// Identity and size of what the user imported (a file, or every file of a folder in name order):
// XXH3-128 of its bytes, read in pieces (and, for an import that keeps the file, written to the
// package's copy as it goes).
// The library's WebAssembly XXH3 hashes ~5 GB/s on one core, so an import that keeps the file as
// it is costs about a copy of it; SHA-256, which packages before recorded, runs ~1.7 GB/s even
// with SHA-NI: 0.4 s of a TinyLlama file that `cp` copies in 0.12 s. The hash names a file in the
// library (is it there already?); it is not a security boundary.
import { closeSync, openSync, readSync } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { createXXHash128 } from "hash-wasm";
import { throwIfAborted } from "../formats/cancel.js";

export interface SourceHash {
  bytes: number;
  xxh128: string;
}

/**
 * Sees a file's bytes as they are hashed (so that checking them costs no read of its own). Each
 * range's pieces are whole `unit`s of it, and no piece straddles a range's start or end.
 */
export interface ByteInspector {
  /** Ascending, not overlapping. */
  ranges: readonly { offset: number; length: number; unit: number }[];
  /** A piece at `offset` of the file; `bytes` are valid during the call only. */
  inspect(offset: number, bytes: Uint8Array): void;
}

const PIECE = 4 << 20;

export interface HashOptions {
  signal?: AbortSignal;
  inspector?: ByteInspector;
  /**
   * Writes the file's bytes there too, as they are read (a single file; the path must not exist):
   * one read serves the hash, the checks and the copy, and cancelling stops the copy too.
   */
  copyTo?: string;
}

export async function hashSource(source: string, o: HashOptions = {}): Promise<SourceHash> {
  const info = await stat(source);
  const names = info.isDirectory()
    ? (await readdir(source)).sort().map((f) => path.join(source, f))
    : [source];
  if ((o.inspector || o.copyTo) && names.length !== 1)
    throw new Error("inspecting or copying reads a single file");
  const hash = await createXXHash128();
  hash.init();
  let bytes = 0;
  for (const file of names) {
    const st = await stat(file);
    if (!st.isFile()) continue;
    throwIfAborted(o.signal);
    await hashFile(file, st.size, hash, o);
    bytes += st.size;
  }
  return { bytes, xxh128: hash.digest("hex") };
}

type Hasher = Awaited<ReturnType<typeof createXXHash128>>;

/**
 * Reads, hashes and inspects piece by piece with synchronous calls, yielding to the event loop
 * every few pieces (~10 ms) so that progress and cancelling still get through; the copy's writes
 * run on libuv's threads meanwhile, from a ring of buffers. On 2 cores, reading through the
 * promise API as well took 1.3-2x as long (TinyLlama Q4_K_M, page cache hot: 220-320 ms against
 * 170 ms without the copy).
 */
async function hashFile(file: string, size: number, hash: Hasher, o: HashOptions): Promise<void> {
  const fd = openSync(file, "r");
  const out = o.copyTo ? await open(o.copyTo, "wx") : null;
  const writes: Promise<unknown>[] = [];
  try {
    const ring = Array.from({ length: out ? RING : 1 }, () => Buffer.allocUnsafe(PIECE));
    const pieces = pieceList(size, o.inspector?.ranges ?? []);
    for (let i = 0; i < pieces.length; i++) {
      if (i % YIELD_EVERY === YIELD_EVERY - 1) {
        await new Promise((resolve) => setImmediate(resolve));
        throwIfAborted(o.signal);
      }
      await writes[i - ring.length]; // this buffer's last piece is written
      const [offset, length] = pieces[i];
      const piece = ring[i % ring.length].subarray(0, length);
      if (readSync(fd, piece, 0, length, offset) !== length)
        throw new Error(`${file} changed while it was read (short read at ${offset})`);
      hash.update(piece);
      o.inspector?.inspect(offset, piece);
      if (out) {
        writes[i] = out.write(piece, 0, length, offset);
        writes[i].catch(() => {}); // awaited before its buffer is reused, and at the end
      }
    }
    await Promise.all(writes);
  } finally {
    closeSync(fd);
    await Promise.allSettled(writes);
    await out?.close();
  }
}

/** Buffers the copy's writes may hold at once. */
const RING = 4;
/** Pieces between yields to the event loop: ~1.5 ms each. */
const YIELD_EVERY = 6;

/** [offset, length] of each piece read: at most PIECE bytes, whole units inside each range. */
export function pieceList(
  size: number,
  ranges: readonly { offset: number; length: number; unit: number }[],
): [number, number][] {
  const out: [number, number][] = [];
  const plain = (from: number, to: number) => {
    for (let at = from; at < to; at += PIECE) out.push([at, Math.min(PIECE, to - at)]);
  };
  let at = 0;
  for (const r of ranges) {
    if (r.offset < at || r.offset + r.length > size || r.unit < 1 || r.length % r.unit !== 0)
      throw new Error(`bad byte range ${r.offset}+${r.length} (unit ${r.unit}) of a ${size}-byte file`);
    plain(at, r.offset);
    const step = Math.max(1, Math.floor(PIECE / r.unit)) * r.unit;
    const end = r.offset + r.length;
    for (let p = r.offset; p < end; p += step) out.push([p, Math.min(step, end - p)]);
    at = end;
  }
  plain(at, size);
  return out;
}
