import { afterAll, describe, expect, it } from "vitest";
import { openGguf } from "./gguf.js";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { failure } from "../test-support/format-failure.js";
import { tinyGguf, tinyModel } from "../test-support/tiny-models.js";
import { writeGguf } from "../test-support/gguf-writer.js";
import { llama3Factors } from "./gguf-config.js";

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

describe("openGguf on built models", () => {
  it("reads a llama model exactly, with config, tokenizer keys and canonical names", async () => {
    const m = tinyModel({ tied: false });
    const src = await openGguf(tmp.write("llama.gguf", tinyGguf(m).bytes));
    try {
      expect(src.config).toEqual({ ...m.config, name: "tiny" });
      expect(src.tokenizer.kind).toBe("gguf");
      if (src.tokenizer.kind === "gguf")
        expect(src.tokenizer.metadata.get("tokenizer.ggml.tokens")).toEqual(m.pieces);
      expect([...src.tensors.keys()].sort()).toEqual([...m.tensors.keys()].sort());
      for (const [n, t] of m.tensors) {
        expect(src.tensors.get(n)!.shape).toEqual(t.shape);
        expect(await src.readTensor(n)).toEqual(t.data);
      }
    } finally {
      await src.close();
    }
  });

  it("reads qwen2 with q/k/v biases and half-split rotary", async () => {
    const m = tinyModel({ arch: "qwen2" });
    const src = await openGguf(tmp.write("qwen.gguf", tinyGguf(m).bytes));
    expect(src.config.ropeInterleaved).toBe(false);
    expect(src.config.attentionBias).toBe(true);
    expect(await src.readTensor("layers.1.bk")).toEqual(m.tensors.get("layers.1.bk")!.data);
    await src.close();
  });

  it("reads every dequantizable type", async () => {
    for (const type of ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]) {
      const m = tinyModel({ hidden: 256, ff: 256, layers: 1, vocab: 32 });
      const src = await openGguf(tmp.write(`t-${type}.gguf`, tinyGguf(m, { type }).bytes));
      expect(src.tensors.get("layers.0.wq")!.sourceType).toBe(type);
      const w = await src.readTensor("layers.0.wq");
      expect(w.length).toBe(256 * 256);
      expect(w.every(Number.isFinite)).toBe(true);
      await src.close();
    }
  });

  it("refuses unsupported architectures, missing tensors, wrong shapes and non-finite weights", async () => {
    const m = tinyModel();
    const e1 = await failure(
      openGguf(tmp.write("a.gguf", tinyGguf(m, { extraMeta: { "general.architecture": "gpt2" } }).bytes)),
    );
    expect(e1.code).toBe("unsupported_architecture");
    expect(e1.message).toContain(
      "unsupported architecture gpt2 (supported: llama, qwen2, qwen3, gemma3, phi3)",
    );

    const m2 = tinyModel();
    m2.tensors.delete("layers.1.w_up");
    const e2 = await failure(openGguf(tmp.write("b.gguf", tinyGguf(m2).bytes)));
    expect(e2.code).toBe("missing_tensor");
    expect(e2.message).toContain("blk.1.ffn_up.weight");

    const e3 = await failure(
      openGguf(tmp.write("c.gguf", tinyGguf(m, { extraMeta: { "llama.feed_forward_length": 48 } }).bytes)),
    );
    expect(e3.code).toBe("bad_tensor");
    expect(e3.message).toMatch(/has shape \[64, 32\] but the model config implies \[48, 32\]/);

    const m4 = tinyModel();
    m4.tensors.get("layers.0.wv")!.data[5] = NaN;
    const src = await openGguf(tmp.write("d.gguf", tinyGguf(m4).bytes));
    const e4 = await failure(src.readTensor("layers.0.wv"));
    expect(e4.code).toBe("bad_tensor");
    expect(e4.message).toContain("blk.0.attn_v.weight contains 1 NaN or infinite values");
    await src.close();

    const e5 = await failure(
      openGguf(
        tmp.write(
          "e.gguf",
          writeGguf({
            metadata: { "general.architecture": "llama" },
            tensors: [{ name: "x", ne: [256], type: 16, data: new Uint8Array(66) }],
          }).bytes,
        ),
      ),
    );
    expect(e5.code).toBe("missing_tensor");
    const e6 = await failure(
      openGguf(
        tmp.write(
          "f.gguf",
          writeGguf({ metadata: {}, tensors: [{ name: "x", ne: [32], type: 77, data: new Uint8Array(32) }] })
            .bytes,
        ),
      ),
    );
    expect(e6.code).toBe("unsupported_type");
    expect(e6.message).toContain("unknown ggml type id 77");
  });

  it("names the ggml type of a used tensor it cannot dequantize", async () => {
    const m = tinyModel({ hidden: 256, ff: 256, layers: 1, vocab: 32 });
    // IQ4_NL has Q4_0's block size and bytes, so relabelling a Q4_0 tensor keeps the layout valid.
    const w2 = tinyGguf(m, { type: "Q4_0" });
    const f2 = w2.fields.find((x) => x.label === "type of blk.0.attn_q.weight")!;
    new DataView(w2.bytes.buffer).setUint32(f2.offset, 20, true);
    const e = await failure(openGguf(tmp.write("iq.gguf", w2.bytes)));
    expect(e.code).toBe("unsupported_type");
    expect(e.message).toContain("blk.0.attn_q.weight is IQ4_NL");
  });

  it("reads llama3 rope scaling from rope_freqs and from keys, and linear scaling", async () => {
    const m = tinyModel({ hidden: 256, layers: 1 });
    const s = {
      type: "llama3" as const,
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalContextLength: 8192,
    };
    // With head_dim 64 and theta 500000, the medium band holds several frequencies.
    const freqs = llama3Factors(s, 64, 500000);
    const theta = { "llama.rope.freq_base": { t: "f32", v: 500000 } } as const;
    const src0 = await openGguf(tmp.write("r0.gguf", tinyGguf(m, { extraMeta: theta }).bytes));
    expect(src0.config.ropeScaling).toBeUndefined();
    await src0.close();
    const src = await openGguf(
      tmp.write(
        "r1.gguf",
        tinyGguf(m, { extraMeta: theta, extraTensors: [{ name: "rope_freqs.weight", values: freqs }] }).bytes,
      ),
    );
    expect(src.config.ropeScaling).toEqual(s);
    await src.close();
    const src2 = await openGguf(
      tmp.write(
        "r2.gguf",
        tinyGguf(m, {
          extraMeta: { "llama.rope.scaling.type": "linear", "llama.rope.scaling.factor": { t: "f32", v: 4 } },
        }).bytes,
      ),
    );
    expect(src2.config.ropeScaling).toEqual({ type: "linear", factor: 4 });
    await src2.close();
    const e = await failure(
      openGguf(
        tmp.write(
          "r3.gguf",
          tinyGguf(m, {
            extraMeta: { "llama.rope.scaling.type": "yarn", "llama.rope.scaling.factor": { t: "f32", v: 4 } },
          }).bytes,
        ),
      ),
    );
    expect(e.message).toContain('rope scaling type "yarn" is not supported');
  });
});

describe.skipIf(!haveShared("models/stories260K"))("openGguf on stories260K", () => {
  it("reads the f32 file with the documented config", async () => {
    const src = await openGguf(stories.gguf);
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
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeInterleaved: true,
      tiedEmbeddings: true,
      attentionBias: false,
    });
    expect(src.tensors.size).toBe(47);
    await src.close();
  });

  it("q8_0 dequantizes to the f32 weights within each block's Q8_0 rounding error", async () => {
    const f = await openGguf(stories.gguf);
    const q = await openGguf(stories.ggufQ8);
    let q8Tensors = 0;
    for (const [name, info] of q.tensors) {
      const a = await f.readTensor(name);
      const b = await q.readTensor(name);
      if (info.sourceType === "F32") {
        expect(b).toEqual(a);
        continue;
      }
      q8Tensors++;
      expect(info.sourceType).toBe("Q8_0");
      let worst = 0;
      for (let blk = 0; blk < a.length; blk += 32) {
        let amax = 0;
        for (let i = blk; i < blk + 32; i++) amax = Math.max(amax, Math.abs(a[i]));
        // d = amax/127 rounded to f16 (relative error 2^-11), values rounded to the nearest step.
        const d = amax / 127;
        for (let i = blk; i < blk + 32; i++)
          worst = Math.max(worst, Math.abs(a[i] - b[i]) - (d * 0.5 + amax * 2 ** -10 + 1e-12));
      }
      expect(worst, name).toBeLessThanOrEqual(0);
    }
    expect(q8Tensors).toBe(31);
    await f.close();
    await q.close();
  });
});
