import { afterAll, describe, expect, it } from "vitest";
import { ModelFormatError } from "./errors.js";
import { readGgufMetadata } from "./gguf.js";
import { haveShared, stories, vocabOnly } from "../test-support/shared-fixtures.js";
import { writeGguf } from "../test-support/gguf-writer.js";
import { makeTempDir } from "../test-support/temp-files.js";

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return (e as ModelFormatError).code;
  }
}

describe("readGgufMetadata on built files", () => {
  it("types every value kind, nested arrays included", async () => {
    const p = tmp.write(
      "all.gguf",
      writeGguf({
        metadata: {
          u8: { t: "u8", v: 200 },
          i8: { t: "i8", v: -5 },
          u16: { t: "u16", v: 60000 },
          i16: { t: "i16", v: -3000 },
          u32: { t: "u32", v: 4e9 },
          i32: { t: "i32", v: -2e9 },
          f32: { t: "f32", v: 0.5 },
          f64: { t: "f64", v: 1e-300 },
          b: true,
          s: "héllo ▁",
          small64: { t: "u64", v: 42n },
          big64: { t: "u64", v: 2n ** 63n },
          neg64: { t: "i64", v: -(2n ** 60n) },
          nested: [[1, 2], [3]],
          strs: ["a", "", "c"],
        },
      }).bytes,
    );
    const m = await readGgufMetadata(p);
    expect(Object.fromEntries(m)).toEqual({
      u8: 200,
      i8: -5,
      u16: 60000,
      i16: -3000,
      u32: 4e9,
      i32: -2e9,
      f32: 0.5,
      f64: 1e-300,
      b: true,
      s: "héllo ▁",
      small64: 42,
      big64: 2n ** 63n,
      neg64: -(2n ** 60n),
      nested: [[1, 2], [3]],
      strs: ["a", "", "c"],
    });
  });

  it("rejects v1, bad magic, missing files and truncation with specific codes", async () => {
    expect(
      await codeOf(readGgufMetadata(tmp.write("v1.gguf", writeGguf({ version: 1, metadata: {} }).bytes))),
    ).toBe("unsupported_version");
    expect(
      await codeOf(
        readGgufMetadata(tmp.write("magic.gguf", new TextEncoder().encode("GGML0000000000000000000000"))),
      ),
    ).toBe("bad_magic");
    expect(await codeOf(readGgufMetadata(tmp.dir + "/missing.gguf"))).toBe("not_found");
    const full = writeGguf({ metadata: { a: "hello", b: [1, 2, 3] } }).bytes;
    expect(await codeOf(readGgufMetadata(tmp.write("trunc.gguf", full.subarray(0, full.length - 3))))).toBe(
      "truncated",
    );
  });

  it("rejects an array count larger than the file before allocating", async () => {
    const w = writeGguf({ metadata: { a: [1, 2, 3] } });
    const f = w.fields.find((x) => x.label === "a length")!;
    new DataView(w.bytes.buffer).setBigUint64(f.offset, 2n ** 62n, true);
    const err = await readGgufMetadata(tmp.write("huge.gguf", w.bytes)).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/claims 4611686018427387904 int32 items/);
  });
});

describe.skipIf(!haveShared("models/vocab-only"))("readGgufMetadata on vocabulary-only files", () => {
  it("reads the llama SPM vocabulary", async () => {
    const m = await readGgufMetadata(vocabOnly.llamaSpm);
    expect(m.get("tokenizer.ggml.model")).toBe("llama");
    expect((m.get("tokenizer.ggml.tokens") as string[]).length).toBe(32000);
    expect((m.get("tokenizer.ggml.tokens") as string[])[3]).toBe("<0x00>");
    expect((m.get("tokenizer.ggml.token_type") as number[]).slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect(m.get("tokenizer.ggml.add_bos_token")).toBe(true);
  });
  it("reads the GPT-2 vocabulary with merges", async () => {
    const m = await readGgufMetadata(vocabOnly.gpt2);
    expect((m.get("tokenizer.ggml.tokens") as string[]).length).toBe(50257);
    expect((m.get("tokenizer.ggml.merges") as string[])[0]).toBe("Ġ t");
    expect(m.get("tokenizer.ggml.bos_token_id")).toBe(50256);
  });
});

describe.skipIf(!haveShared("models/stories260K"))("readGgufMetadata on stories260K", () => {
  it("reads the model keys", async () => {
    const m = await readGgufMetadata(stories.ggufQ8);
    expect(m.get("general.architecture")).toBe("llama");
    expect(m.get("llama.block_count")).toBe(5);
    expect(m.get("general.file_type")).toBe(7);
    expect((m.get("tokenizer.ggml.scores") as number[]).length).toBe(512);
  });
});
