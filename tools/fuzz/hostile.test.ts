import { truncateSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { ModelFormatError } from "../../native-models/formats/errors.js";
import { openGguf, readGgufMetadata } from "../../native-models/formats/gguf.js";
import { openHfFolder } from "../../native-models/formats/hf-folder.js";
import { openLlama2c } from "../../native-models/formats/llama2c.js";
import { openModelSource } from "../../native-models/formats/open-model.js";
import { makeTempDir } from "../../native-models/test-support/temp-files.js";
import { writeGguf, type Field } from "../../native-models/test-support/gguf-writer.js";
import { tinyGguf, tinyModel } from "../../native-models/test-support/tiny-models.js";
import { tinyHfFolder } from "../../native-models/test-support/hf-writer.js";
import { llama2cTokenizerBin, tinyLlama2c } from "../../native-models/test-support/llama2c-writer.js";

// Named hostile inputs, each built on purpose (found by review or kept from fuzzing): the code and
// message a user would see, and that nothing slow or huge happens first.

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

async function code(p: Promise<unknown>): Promise<string> {
  const t = performance.now();
  const e = await p.then(
    async (s) => {
      if (s && typeof s === "object" && "close" in s) await (s as { close(): Promise<void> }).close();
      return undefined;
    },
    (x: unknown) => x,
  );
  expect(performance.now() - t).toBeLessThan(5000);
  if (e === undefined) return "ok";
  expect(e).toBeInstanceOf(ModelFormatError);
  return (e as ModelFormatError).code;
}

const m = tinyModel();
function ggufWith(edit: (dv: DataView, field: (label: string) => Field) => void): string {
  const w = tinyGguf(m);
  const dv = new DataView(w.bytes.buffer);
  edit(dv, (label) => w.fields.find((f) => f.label === label)!);
  return tmp.write(`g-${Math.random().toString(36).slice(2)}.gguf`, w.bytes);
}

describe("hostile GGUF", () => {
  it("4M empty strings parse quickly; one more is refused before allocating", async () => {
    for (const [n, want] of [
      [4_000_000, "ok"],
      [4_000_001, "too_large"],
    ] as const) {
      const w = writeGguf({ metadata: { a: ["x"] } });
      new DataView(w.bytes.buffer).setBigUint64(
        w.fields.find((f) => f.label === "a length")!.offset,
        BigInt(n),
        true,
      );
      const head = w.bytes.subarray(0, w.fields.find((f) => f.label === "a[0]")!.offset);
      const p = tmp.write(`strings-${n}.gguf`, head);
      truncateSync(p, head.length + n * 8); // sparse zeros: n empty strings
      expect(await code(readGgufMetadata(p))).toBe(want);
    }
  });

  it.each([
    [
      "dims whose product overflows",
      (dv: DataView, f: (l: string) => Field) =>
        [0, 1].forEach((i) => dv.setBigUint64(f(`dim ${i} of blk.0.attn_q.weight`).offset, 2n ** 31n, true)),
      "too_large",
    ],
    [
      "5 dimensions",
      (dv: DataView, f: (l: string) => Field) => dv.setUint32(f("ndims blk.0.attn_q.weight").offset, 5, true),
      "bad_tensor",
    ],
    [
      "a zero dimension",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(f("dim 0 of output_norm.weight").offset, 0n, true),
      "bad_tensor",
    ],
    [
      "a dimension of 2^40",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(f("dim 0 of output_norm.weight").offset, 2n ** 40n, true),
      "bad_tensor",
    ],
    [
      "overlapping tensors",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(
          f("offset of blk.0.attn_k.weight").offset,
          dv.getBigUint64(f("offset of blk.0.attn_q.weight").offset, true),
          true,
        ),
      "bad_tensor",
    ],
    [
      "a misaligned offset",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(
          f("offset of output_norm.weight").offset,
          dv.getBigUint64(f("offset of output_norm.weight").offset, true) + 4n,
          true,
        ),
      "bad_tensor",
    ],
    [
      "an offset past the end",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(f("offset of output_norm.weight").offset, 2n ** 62n, true),
      "out_of_bounds",
    ],
    [
      "an offset of 2^64-32",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(f("offset of output_norm.weight").offset, 2n ** 64n - 32n, true),
      "out_of_bounds",
    ],
    [
      "a tensor count of 2^63",
      (dv: DataView, f: (l: string) => Field) => dv.setBigUint64(f("tensor count").offset, 2n ** 63n, true),
      "truncated",
    ],
    [
      "a key length of 2^64-1",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setBigUint64(f("key general.name").offset, 2n ** 64n - 1n, true),
      "truncated",
    ],
    [
      "an unknown value type",
      (dv: DataView, f: (l: string) => Field) => dv.setUint32(f("type of general.name").offset, 13, true),
      "bad_metadata",
    ],
    [
      "an unknown tensor type",
      (dv: DataView, f: (l: string) => Field) =>
        dv.setUint32(f("type of output_norm.weight").offset, 1000, true),
      "unsupported_type",
    ],
    [
      "a big-endian version",
      (dv: DataView, f: (l: string) => Field) => dv.setUint32(f("version").offset, 3, false),
      "unsupported_version",
    ],
  ] as const)("%s", async (_name, edit, want) => {
    expect(await code(openGguf(ggufWith(edit)))).toBe(want);
  });

  it("alignment that is not a power of two, and arrays nested 9 deep", async () => {
    expect(
      await code(
        readGgufMetadata(
          tmp.write("al.gguf", writeGguf({ metadata: { "general.alignment": { t: "u32", v: 48 } } }).bytes),
        ),
      ),
    ).toBe("bad_metadata");
    let deep: unknown = [1];
    for (let i = 0; i < 9; i++) deep = [deep];
    expect(
      await code(
        readGgufMetadata(tmp.write("deep.gguf", writeGguf({ metadata: { d: deep as number[] } }).bytes)),
      ),
    ).toBe("bad_metadata");
  });

  it("a sparse 2 GB tail after a valid model is never read", async () => {
    const w = tinyGguf(m);
    const p = tmp.write("tail.gguf", w.bytes);
    truncateSync(p, w.bytes.length + 2 ** 31);
    expect(await code(openModelSource(p))).toBe("ok");
  });
});

describe("hostile safetensors / HF JSON", () => {
  const files = tinyHfFolder(m);
  const st = files["model.safetensors"] as Uint8Array;
  const withLen = (n: bigint) => {
    const b = st.slice();
    new DataView(b.buffer).setBigUint64(0, n, true);
    return b;
  };
  it.each([
    ["a header length of 2^63", withLen(2n ** 63n), "truncated"],
    ["a header length of 0", withLen(0n), "bad_metadata"],
    ["a header length into the data", withLen(BigInt(st.length - 16)), "bad_metadata"],
  ] as const)("%s", async (_n, bytes, want) => {
    expect(
      await code(
        openHfFolder(tmp.folder(`st-${want}-${bytes.length}`, { ...files, "model.safetensors": bytes })),
      ),
    ).toBe(want);
  });

  it("a header over 100 MB is refused without reading it", async () => {
    const b = withLen(BigInt((100 << 20) + 8));
    const dir = tmp.folder("st-huge", { ...files, "model.safetensors": b });
    truncateSync(`${dir}/model.safetensors`, (100 << 20) + 1000);
    expect(await code(openHfFolder(dir))).toBe("too_large");
  });

  it("enormous and deeply nested JSON files", async () => {
    const dir = tmp.folder("json-huge", files);
    truncateSync(`${dir}/config.json`, 17 << 20);
    expect(await code(openHfFolder(dir))).toBe("too_large");
    const deep = '{"model":' + "[".repeat(1e6) + "]".repeat(1e6) + "}";
    expect(await code(openHfFolder(tmp.folder("json-deep", { ...files, "tokenizer.json": deep })))).toBe(
      "bad_tokenizer",
    );
    const bigArr = JSON.stringify({
      ...JSON.parse(files["config.json"] as string),
      extra: Array.from({ length: 1e6 }, (_, i) => i),
    });
    expect(await code(openHfFolder(tmp.folder("json-big", { ...files, "config.json": bigArr })))).toBe("ok");
    expect(
      await code(
        openHfFolder(
          tmp.folder("json-bad-utf8", { ...files, "config.json": new Uint8Array([0x7b, 0xff, 0x7d]) }),
        ),
      ),
    ).toBe("bad_config");
  });
});

describe("hostile llama2.c", () => {
  it("header values that overflow, and a separate classifier cut off", async () => {
    const bin = tinyLlama2c(m);
    const edit = (i: number, v: number) => {
      const b = bin.slice();
      new DataView(b.buffer).setInt32(i * 4, v, true);
      return b;
    };
    expect(await code(openLlama2c(tmp.write("l1.bin", edit(5, -(2 ** 31)))))).toBe("bad_config");
    expect(await code(openLlama2c(tmp.write("l2.bin", edit(0, 2 ** 30))))).toBe("truncated");
    expect(await code(openLlama2c(tmp.write("l3.bin", edit(5, -64))))).toBe("truncated");
    expect(await code(openLlama2c(tmp.write("l4.bin", edit(2, 0))))).toBe("bad_config");
  });

  it("a tokenizer with a negative or huge token length", async () => {
    const tok = llama2cTokenizerBin(m.pieces);
    for (const len of [-1, 2 ** 31 - 1]) {
      const t = tok.slice();
      new DataView(t.buffer).setInt32(4 + 4, len, true);
      const dir = tmp.folder(`tok${len}`, { "m.bin": tinyLlama2c(m), "tokenizer.bin": t });
      expect(await code(openLlama2c(`${dir}/m.bin`))).toBe("bad_tokenizer");
    }
  });
});
