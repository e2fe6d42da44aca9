import { afterAll, describe, expect, it } from "vitest";
import { detectModelFormat, openModelSource } from "./open-model.js";
import type { ModelSource } from "./model-source.js";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { failure } from "../test-support/format-failure.js";
import { hfUnpermute, tinyGguf, tinyModel } from "../test-support/tiny-models.js";
import { tinyHfFolder } from "../test-support/hf-writer.js";
import { llama2cTokenizerBin, tinyLlama2c } from "../test-support/llama2c-writer.js";

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

/** Configs equal apart from name and rotary layout; tensors equal once HF q/k rows are un-permuted. */
async function expectEquivalent(a: ModelSource, b: ModelSource): Promise<void> {
  const strip = (s: ModelSource) => ({ ...s.config, name: "", ropeInterleaved: undefined });
  expect(strip(a)).toEqual(strip(b));
  expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort());
  const c = a.config;
  const canon = async (s: ModelSource, n: string) => {
    const w = await s.readTensor(n as never);
    if (s.config.ropeInterleaved || c.arch !== "llama") return w;
    if (n.endsWith(".wq")) return hfUnpermute(w, c.numHeads, c.headDim, c.hiddenSize);
    if (n.endsWith(".wk")) return hfUnpermute(w, c.numKvHeads, c.headDim, c.hiddenSize);
    return w;
  };
  for (const n of a.tensors.keys()) {
    expect(b.tensors.get(n)!.shape, n).toEqual(a.tensors.get(n)!.shape);
    expect(await canon(b, n), n).toEqual(await canon(a, n));
  }
}

describe("openModelSource detection", () => {
  const m = tinyModel();
  it("detects each format from content", async () => {
    const gguf = tmp.write("model.weights", tinyGguf(m).bytes);
    const hf = tmp.folder("hf", tinyHfFolder(m));
    const l2c = tmp.folder("l2c", {
      "model.bin": tinyLlama2c(m),
      "tokenizer.bin": llama2cTokenizerBin(m.pieces),
    });
    expect((await detectModelFormat(gguf)).format).toBe("gguf");
    expect(await detectModelFormat(hf)).toEqual({ format: "hf", path: hf });
    expect(await detectModelFormat(`${hf}/model.safetensors`)).toEqual({ format: "hf", path: hf });
    expect((await detectModelFormat(`${l2c}/model.bin`)).format).toBe("llama2c");
    const sources = await Promise.all([
      openModelSource(gguf),
      openModelSource(hf),
      openModelSource(`${l2c}/model.bin`),
    ]);
    expect(sources.map((s) => s.format)).toEqual(["gguf", "hf", "llama2c"]);
    await expectEquivalent(sources[0], sources[1]);
    await expectEquivalent(sources[0], sources[2]);
    await Promise.all(sources.map((s) => s.close()));
  });

  it("says what is supported when nothing fits", async () => {
    expect((await failure(openModelSource(tmp.dir + "/nothing-here"))).code).toBe("not_found");
    const e = await failure(
      openModelSource(tmp.write("notes.txt", "hello world, this is not a model at all")),
    );
    expect(e.code).toBe("unknown_format");
    expect(e.message).toContain("supported: a GGUF file");
    const e2 = await failure(openModelSource(tmp.folder("empty", { "readme.md": "x" })));
    expect(e2.message).toContain("folder has no config.json");
    const bin = tinyLlama2c(m);
    const e3 = await failure(openModelSource(tmp.write("cut.bin", bin.subarray(0, 5000))));
    expect(e3.code).toBe("unknown_format");
    expect(e3.message).toContain(`header implies ${bin.length} bytes, but the file is 5000 bytes`);
    expect((await failure(openModelSource(tmp.write("empty.gguf", "")))).code).toBe("unknown_format");
  });
});

describe.skipIf(!haveShared("models/stories260K"))(
  "stories260K: the three formats are the same model",
  () => {
    it("GGUF f32, HF folder and llama2.c give equal configs and bit-equal tensors", async () => {
      const [g, h, l] = await Promise.all([
        openModelSource(stories.gguf),
        openModelSource(stories.hf),
        openModelSource(stories.llama2c),
      ]);
      expect([g.format, h.format, l.format]).toEqual(["gguf", "hf", "llama2c"]);
      expect([g.config.ropeInterleaved, h.config.ropeInterleaved, l.config.ropeInterleaved]).toEqual([
        true,
        false,
        true,
      ]);
      expect([g.tokenizer.kind, h.tokenizer.kind, l.tokenizer.kind]).toEqual(["gguf", "hf", "llama2c"]);
      await expectEquivalent(g, l);
      await expectEquivalent(g, h);
      await Promise.all([g, h, l].map((s) => s.close()));
    });

    it("the tokenizers list the same 512 pieces", async () => {
      const [g, l] = await Promise.all([
        openModelSource(stories.gguf),
        openModelSource(stories.llama2c, { tokenizerPath: stories.llama2cTokenizer }),
      ]);
      if (g.tokenizer.kind !== "gguf" || l.tokenizer.kind !== "llama2c")
        throw new Error("unexpected tokenizer kinds");
      const tokens = g.tokenizer.metadata.get("tokenizer.ggml.tokens") as string[];
      // tok512.bin writes U+2581 as a space and BOS/EOS as "\n<s>\n" / "\n</s>\n".
      const fromBin = l.tokenizer.pieces.map((p, i) =>
        i === 1 ? "<s>" : i === 2 ? "</s>" : p.replaceAll(" ", "▁"),
      );
      expect(fromBin).toEqual(tokens);
      const scores = g.tokenizer.metadata.get("tokenizer.ggml.scores") as number[];
      expect(l.tokenizer.scores).toEqual(scores);
      await Promise.all([g.close(), l.close()]);
    });
  },
);
