// The kernels' one-pass file read (an import that keeps its GGUF): the digest is the one
// convert/source-hash.ts computes (XXH3-128, checked against the WebAssembly library), the copy is
// the file, and each range's non-finite units are counted as formats/tensor-read.ts counts them.
// Skipped without the addon (addon.test.ts fails then under EXITLANE_REQUIRE_NATIVE=1).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { xxhash128 } from "hash-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { loadNativeKernels } from "./index.js";

const kernel = loadNativeKernels();
const tmp = makeTempDir("exitlane-file-read-");
afterAll(() => tmp.cleanup());

describe.runIf(kernel.available)("readFile", () => {
  if (!kernel.available) return;
  const k = kernel;

  it("hashes, checks and copies in one read", async () => {
    const data = randomBytes((13 << 20) + 501);
    // 300000 Q4_0-like units (18 bytes, fp16 scale first) after a 100-byte header: clear every
    // scale, then make three of them infinite (exponent bits all ones).
    const q = { offset: 100, length: 18 * 300_000, unit: 18, scales: [0] };
    for (let o = q.offset; o < q.offset + q.length; o += 18) data[o + 1] = 0;
    for (const b of [0, 7, 299_999]) data[q.offset + b * 18 + 1] = 0x7c;
    // 1000 F32 elements, one of them NaN.
    const f = { offset: q.offset + q.length + 28, length: 4000, unit: 4, float: "F32" as const };
    new Float32Array(1000)
      .fill(1)
      .forEach((v, i) => data.writeFloatLE(i === 500 ? NaN : v, f.offset + i * 4));
    const file = tmp.write("model.gguf", data);
    const copyTo = path.join(tmp.dir, "copy.gguf");
    const r = await k.readFile(file, { copyTo, ranges: [q, f] }).done;
    expect(r).toEqual({ bytes: data.length, xxh128: await xxhash128(data), nonFinite: [3, 1] });
    expect(Buffer.compare(readFileSync(copyTo), data)).toBe(0);
    await expect(k.readFile(file, { copyTo, ranges: [] }).done).rejects.toThrow(/cannot create/);
  });

  it("stops when cancelled, and refuses ranges out of order", async () => {
    const file = tmp.write("big.gguf", randomBytes(64 << 20));
    const reading = k.readFile(file, { copyTo: path.join(tmp.dir, "big-copy.gguf"), ranges: [] });
    reading.cancel();
    await expect(reading.done).rejects.toThrow(/cancelled/);
    expect(() =>
      k.readFile(file, {
        copyTo: path.join(tmp.dir, "never.gguf"),
        ranges: [
          { offset: 100, length: 10, unit: 1, scales: [] },
          { offset: 50, length: 10, unit: 1, scales: [] },
        ],
      }),
    ).toThrow(/ascend/);
  });
});
