// Bad model files through the real CLI: each gets a specific error, a non-zero exit, and the
// models folder is left with no model and no leftovers.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { tinyGguf, tinyModel } from "../test-support/tiny-models.js";

const run = promisify(execFile);
const cli = path.resolve(import.meta.dirname, "../cli.ts");
const tmp = makeTempDir("exitlane-import-errors-");
afterAll(() => tmp.cleanup());

async function importFails(file: string): Promise<{ code: number; stderr: string; left: string[] }> {
  const modelsDir = path.join(tmp.dir, `models-${path.basename(file)}`);
  try {
    await run(process.execPath, [
      "--import",
      "tsx",
      cli,
      "import",
      file,
      "--models-dir",
      modelsDir,
      "--json",
    ]);
    throw new Error("import unexpectedly succeeded");
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    if (typeof e.code !== "number") throw err;
    let left: string[] = [];
    try {
      left = readdirSync(modelsDir);
    } catch {
      // never created: nothing left
    }
    return { code: e.code, stderr: e.stderr ?? "", left };
  }
}

/** A copy of `bytes` with a u64 (bigint) or raw bytes written at `at`. */
function patched(bytes: Uint8Array, at: number, values: number[] | bigint): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  if (typeof values === "bigint") dv.setBigUint64(at, values, true);
  else values.forEach((v, i) => dv.setUint8(at + i, v));
  return out;
}

describe("import of bad model files", () => {
  const good = tinyGguf(tinyModel({ seed: 11 }));
  const field = (label: string) => good.fields.find((f) => f.label === label)!;

  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    [
      "truncated file",
      () => good.bytes.slice(0, Math.floor(good.bytes.length * 0.6)),
      /truncated|ends|beyond|short/i,
    ],
    [
      "wrong magic",
      () => patched(good.bytes, 0, [0x47, 0x47, 0x4d, 0x4c]),
      /unknown_format|not a (GGUF|supported)|magic|format/i,
    ],
    [
      "tensor offset beyond the file",
      () => patched(good.bytes, field("offset of token_embd.weight").offset, 1n << 40n),
      /out_of_bounds|beyond|outside/i,
    ],
    [
      "absurd dimension",
      () => patched(good.bytes, field("dim 0 of token_embd.weight").offset, 1n << 40n),
      /too_large|dimension|too large|bad_tensor/i,
    ],
    [
      "unsupported tokenizer",
      () => tinyGguf(tinyModel({ seed: 11 }), { extraMeta: { "tokenizer.ggml.model": "rwkv" } }).bytes,
      /Unsupported GGUF tokenizer model "rwkv".*\(.*unsupported-tokenizer\.gguf\)/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(`${name}: specific error, non-zero exit, nothing left in the models dir`, async () => {
      const r = await importFails(tmp.write(`${name.replace(/\W+/g, "-")}.gguf`, make()));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.left).toEqual([]);
    });
  }

  it("unsupported architecture: names it and lists what is supported", async () => {
    const bytes = tinyGguf(tinyModel({ seed: 12 }), { extraMeta: { "general.architecture": "mamba" } }).bytes;
    const r = await importFails(tmp.write("mamba.gguf", bytes));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /unsupported architecture "?mamba"?.*supported: llama, qwen2, qwen3, gemma3, phi3/i,
    );
    expect(r.left).toEqual([]);
  });

  it("a file that is no model at all", async () => {
    const r = await importFails(tmp.write("notes.txt", "just some text, not weights"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown_format|not a (supported|model)/i);
    expect(r.left).toEqual([]);
  });
});
