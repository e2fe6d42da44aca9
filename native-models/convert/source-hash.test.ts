import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { hashSource } from "./source-hash.js";

const tmp = makeTempDir("exitlane-hash-");
afterAll(() => tmp.cleanup());
const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

describe("hashSource (on a worker thread)", () => {
  it("hashes a file of several read chunks", async () => {
    const data = randomBytes((9 << 20) + 123);
    const file = tmp.write("model.gguf", data);
    expect(await hashSource(file)).toEqual({ bytes: data.length, sha256: sha(data) });
  });

  it("hashes a folder's files in name order, skipping sub-folders", async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    const dir = tmp.folder("hf", { "b.safetensors": b, "a.json": a });
    tmp.folder("hf/sub", { "c.bin": randomBytes(10) });
    expect(await hashSource(dir)).toEqual({ bytes: 3000, sha256: sha(a, b) });
  });

  it("stops when cancelled", async () => {
    const file = tmp.write("big.gguf", randomBytes(64 << 20));
    const controller = new AbortController();
    const hashing = hashSource(file, controller.signal);
    setTimeout(() => controller.abort(), 1);
    await expect(hashing).rejects.toBeInstanceOf(CancelledError);
  });
});
