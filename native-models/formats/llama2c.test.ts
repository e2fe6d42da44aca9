import { afterAll, describe, expect, it } from "vitest";
import { openLlama2c } from "./llama2c.js";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { failure } from "../test-support/format-failure.js";
import { tinyModel } from "../test-support/tiny-models.js";
import { llama2cTokenizerBin, tinyLlama2c } from "../test-support/llama2c-writer.js";

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

describe("openLlama2c on built checkpoints", () => {
  it("reads shared and separate classifiers, with the tokenizer found next to the model", async () => {
    for (const tied of [true, false]) {
      const m = tinyModel({ tied });
      const dir = tmp.folder(`l2c-${tied}`, {
        "model.bin": tinyLlama2c(m),
        "tok64.bin": llama2cTokenizerBin(m.pieces),
      });
      const src = await openLlama2c(`${dir}/model.bin`);
      expect(src.config).toEqual({ ...m.config, name: "model" });
      for (const [n, t] of m.tensors) expect(await src.readTensor(n)).toEqual(t.data);
      expect(src.tokenizer.kind).toBe("llama2c");
      if (src.tokenizer.kind === "llama2c") {
        expect(src.tokenizer.pieces[5]).toBe(" t2");
        expect(src.tokenizer.scores[5]).toBe(-5);
      }
      await src.close();
    }
  });

  it("uses an explicit tokenizer path, or none when there is no tokenizer", async () => {
    const m = tinyModel();
    const dir = tmp.folder("l2c-none", {
      "m.bin": tinyLlama2c(m),
      "other.bin": llama2cTokenizerBin(m.pieces),
    });
    const a = await openLlama2c(`${dir}/m.bin`);
    expect(a.tokenizer.kind).toBe("none");
    const b = await openLlama2c(`${dir}/m.bin`, { tokenizerPath: `${dir}/other.bin` });
    expect(b.tokenizer.kind).toBe("llama2c");
    await Promise.all([a.close(), b.close()]);
    expect((await failure(openLlama2c(`${dir}/m.bin`, { tokenizerPath: `${dir}/nope.bin` }))).code).toBe(
      "not_found",
    );
  });

  it("rejects size mismatches and mismatched tokenizers", async () => {
    const m = tinyModel();
    const bin = tinyLlama2c(m);
    const e1 = await failure(openLlama2c(tmp.write("short.bin", bin.subarray(0, bin.length - 4))));
    expect(e1.code).toBe("truncated");
    expect(e1.message).toContain(`implies ${bin.length} bytes but the file is ${bin.length - 4} bytes`);
    const bigger = tinyModel({ vocab: 80 });
    const dir = tmp.folder("l2c-mismatch", {
      "m.bin": bin,
      "tokenizer.bin": llama2cTokenizerBin(bigger.pieces),
    });
    const e2 = await failure(openLlama2c(`${dir}/m.bin`));
    expect(e2.code).toBe("bad_tokenizer");
    expect(e2.message).toContain("bytes follow the model's 64 tokens");
  });
});

describe.skipIf(!haveShared("models/stories260K"))("openLlama2c on stories260K", () => {
  it("reads the checkpoint and tok512.bin", async () => {
    const src = await openLlama2c(stories.llama2c);
    expect(src.config).toMatchObject({
      arch: "llama",
      hiddenSize: 64,
      intermediateSize: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      contextLength: 512,
      tiedEmbeddings: true,
      ropeInterleaved: true,
    });
    expect(src.tokenizer.kind).toBe("llama2c");
    if (src.tokenizer.kind === "llama2c") {
      expect(src.tokenizer.pieces.slice(0, 4)).toEqual(["<unk>", "\n<s>\n", "\n</s>\n", "<0x00>"]);
      expect(src.tokenizer.pieces.length).toBe(512);
    }
    await src.close();
  });
});
