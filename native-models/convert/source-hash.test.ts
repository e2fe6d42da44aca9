import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { xxhash128 } from "hash-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { hashSource, pieceList } from "./source-hash.js";

const tmp = makeTempDir("exitlane-hash-");
afterAll(() => tmp.cleanup());
const xxh = (...parts: Uint8Array[]) => xxhash128(Buffer.concat(parts));
describe("hashSource", () => {
  it("is XXH3-128 (the reference vector of no bytes)", async () => {
    const file = tmp.write("empty.bin", new Uint8Array(0));
    expect(await hashSource(file)).toEqual({ bytes: 0, xxh128: "99aa06d3014798d86001c324468d497f" });
  });

  it("hashes a file of several read chunks", async () => {
    const data = randomBytes((9 << 20) + 123);
    const file = tmp.write("model.gguf", data);
    expect(await hashSource(file)).toEqual({ bytes: data.length, xxh128: await xxh(data) });
  });

  it("hashes a folder's files in name order, skipping sub-folders", async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    const dir = tmp.folder("hf", { "b.safetensors": b, "a.json": a });
    tmp.folder("hf/sub", { "c.bin": randomBytes(10) });
    expect(await hashSource(dir)).toEqual({ bytes: 3000, xxh128: await xxh(a, b) });
  });

  it("stops when cancelled", async () => {
    const file = tmp.write("big.gguf", randomBytes(64 << 20));
    const controller = new AbortController();
    const hashing = hashSource(file, { signal: controller.signal });
    setTimeout(() => controller.abort(), 1);
    await expect(hashing).rejects.toBeInstanceOf(CancelledError);
  });

  it("shows an inspector every byte once, in whole units inside its ranges", async () => {
    const data = randomBytes((9 << 20) + 1000);
    const file = tmp.write("ranged.gguf", data);
    const ranges = [
      { offset: 100, length: 18 * 300_000, unit: 18 },
      { offset: 100 + 18 * 300_000 + 12, length: 210 * 1000, unit: 210 },
    ];
    const seen: [number, number][] = [];
    const result = await hashSource(file, {
      inspector: {
        ranges,
        inspect: (offset, bytes) => {
          expect(Buffer.compare(bytes, data.subarray(offset, offset + bytes.length))).toBe(0);
          seen.push([offset, bytes.length]);
        },
      },
    });
    expect(result).toEqual({ bytes: data.length, xxh128: await xxh(data) });
    let at = 0;
    for (const [offset, length] of seen) {
      expect(offset).toBe(at);
      at += length;
      const r = ranges.find((x) => offset >= x.offset && offset < x.offset + x.length);
      if (r) {
        expect((offset - r.offset) % r.unit).toBe(0);
        expect(offset + length).toBeLessThanOrEqual(r.offset + r.length);
        expect(length % r.unit).toBe(0);
      } else expect(ranges.some((x) => offset < x.offset && offset + length > x.offset)).toBe(false);
    }
    expect(at).toBe(data.length);
  });

  it("refuses ranges that overlap, run past the file or are not whole units", () => {
    expect(() => pieceList(100, [{ offset: 90, length: 20, unit: 1 }])).toThrow(/bad byte range/);
    expect(() =>
      pieceList(100, [
        { offset: 0, length: 50, unit: 1 },
        { offset: 40, length: 10, unit: 1 },
      ]),
    ).toThrow(/bad byte range/);
    expect(() => pieceList(100, [{ offset: 0, length: 50, unit: 18 }])).toThrow(/bad byte range/);
  });

  it("writes the copy as it reads, and refuses to write over a file", async () => {
    const data = randomBytes((13 << 20) + 77);
    const file = tmp.write("copied.gguf", data);
    const copyTo = path.join(tmp.dir, "copy.gguf");
    expect(await hashSource(file, { copyTo })).toEqual({ bytes: data.length, xxh128: await xxh(data) });
    expect(Buffer.compare(readFileSync(copyTo), data)).toBe(0);
    await expect(hashSource(file, { copyTo })).rejects.toThrow(/EEXIST/);
  });
});
