// The engine against an independent float64 forward pass on tiny random models of every supported
// architecture variant the real test model does not cover: Qwen2 (q/k/v bias, half-split rotary),
// Llama with an untied head, Llama 3 rope scaling, Phi-3 (fused projections, partial rotary,
// LongRoPE's short and long factors), and each source format.
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { tinyGguf, tinyModel, type TinyModel } from "../test-support/tiny-models.js";
import { tinyHfFolder } from "../test-support/hf-writer.js";
import { phi3Gguf, phi3HfFolder, tinyPhi3 } from "../test-support/phi3-writer.js";
import { referenceLogits } from "../test-support/reference-forward.js";
import { openModelSource } from "../formats/open-model.js";
import type { ModelConfig, TensorName } from "../formats/model-source.js";
import { importModel } from "./import-model.js";
import { ModelRunner } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";
import { loadNativeKernels } from "../kernels/index.js";

const tmp = makeTempDir("exitlane-arch-");
afterAll(() => tmp.cleanup());

const kernel = loadNativeKernels();
if (!kernel.available) console.warn(`[skip] native decode checks: ${kernel.detail}`);

/**
 * Largest |Δlogit| against the reference over `ids`, decoded token by token: f32 on onnxruntime's
 * graphs, or int8 in the native kernels (whole layers and the head; then relative to the logits'
 * scale, since int8 weights move logits by ~1%). The reference runs on the weights the reader
 * serves, or on `o.model` (a test model's own weights, in the file's row order) when given, for a
 * model loaded with `o.contextLength` positions.
 */
async function maxLogitError(
  input: string,
  ids: number[],
  native = false,
  /** Changes to the config the reference runs with (to show what a missing feature would cost). */
  referenceChange: Partial<ModelConfig> = {},
  o: { model?: TinyModel; contextLength?: number } = {},
): Promise<number> {
  const contextLength = o.contextLength ?? 64;
  let expected: Float64Array[];
  if (o.model) {
    const { config, tensors } = o.model;
    expected = referenceLogits(
      { ...config, ...referenceChange },
      (n) => tensors.get(n)?.data,
      ids,
      contextLength,
    );
  } else {
    const source = await openModelSource(input);
    const weights = new Map<TensorName, Float32Array>();
    for (const name of source.tensors.keys()) weights.set(name, await source.readTensor(name));
    expected = referenceLogits(
      { ...source.config, ...referenceChange },
      (n) => weights.get(n),
      ids,
      contextLength,
    );
    await source.close();
  }

  const r = await importModel(input, { modelsDir: tmp.dir, quant: native ? "int8" : "f32" });
  const runner = await ModelRunner.load(r.dir, {
    threads: 1,
    executionProvider: "cpu",
    contextLength,
    native,
  });
  if (native) expect(runner.native?.decodesNatively).toBe(true);
  try {
    // Token by token through the decoder, so the KV cache and rotary positions are exercised.
    const decoder = new Decoder(runner);
    let worst = 0;
    for (let p = 0; p < ids.length; p++) {
      const { logits } = await decoder.step(ids[p]);
      for (let v = 0; v < logits.length; v++) worst = Math.max(worst, Math.abs(logits[v] - expected[p][v]));
    }
    // And all positions at once, as prefill runs them (several rows per call, masks and windows inside).
    const V = runner.config.vocabSize;
    const all = await decoder.allLogits(ids);
    for (let p = 0; p < ids.length; p++)
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(all[p * V + v] - expected[p][v]));
    const scale = Math.max(...expected.map((row) => Math.max(...row.map(Math.abs))));
    expect(scale).toBeGreaterThan(0.5); // logits large enough for the tolerance to mean something
    return native ? worst / scale : worst;
  } finally {
    await runner.dispose();
  }
}

const ids = [1, 5, 9, 17, 33, 2, 40, 41];

/**
 * Random weights give near-uniform attention and tiny logits; sharpen q/k and give norms unit
 * scale so that a rotary, masking or layout error moves the logits far beyond float error.
 */
function sharpened(m: ReturnType<typeof tinyModel>) {
  for (const [name, t] of m.tensors) {
    if (/\.(wq|wk)$/.test(name)) t.data.forEach((v, i) => (t.data[i] = v * 12));
    if (/norm$/.test(name)) t.data.forEach((v, i) => (t.data[i] = 1 + v));
  }
  return m;
}

describe("architectures against an independent forward pass (f32)", () => {
  it("qwen2 GGUF: q/k/v bias, half-split rotary, tied head", async () => {
    const m = sharpened(tinyModel({ arch: "qwen2", seed: 3 }));
    const file = tmp.write("qwen2.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids)).toBeLessThan(2e-4);
  });

  it("llama GGUF with a separate output head", async () => {
    const m = sharpened(tinyModel({ arch: "llama", tied: false, seed: 4 }));
    const file = tmp.write("untied.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids)).toBeLessThan(2e-4);
  });

  it("llama Hugging Face folder with Llama 3 rope scaling", async () => {
    const m = sharpened(tinyModel({ arch: "llama", seed: 5 }));
    const files = tinyHfFolder(m);
    const config = JSON.parse(files["config.json"] as string);
    config.rope_scaling = {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 16,
    };
    config.rope_theta = 500000;
    const dir = tmp.folder("llama3-hf", { ...files, "config.json": JSON.stringify(config) });
    const source = await openModelSource(dir);
    expect(source.config.ropeScaling?.type).toBe("llama3");
    await source.close();
    expect(await maxLogitError(dir, ids)).toBeLessThan(2e-4);
  });

  it("qwen3 GGUF: per-head q/k norm, head_dim apart from hidden/heads, untied head", async () => {
    const m = sharpened(tinyModel({ arch: "qwen3", tied: false, headDim: 16, seed: 8 }));
    const file = tmp.write("qwen3.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids)).toBeLessThan(2e-4);
  });

  it("qwen3 Hugging Face folder", async () => {
    const m = sharpened(tinyModel({ arch: "qwen3", headDim: 16, seed: 9 }));
    const dir = tmp.folder("qwen3-hf", tinyHfFolder(m));
    expect(await maxLogitError(dir, ids)).toBeLessThan(2e-4);
  });

  it("mistral GGUF (llama with a sliding window of 3 over 8 tokens)", async () => {
    const m = sharpened(tinyModel({ arch: "llama", slidingWindow: 3, seed: 10 }));
    expect(windowEffect(m)).toBeGreaterThan(0.1); // the window matters here: ignoring it would fail
    const file = tmp.write("mistral.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids)).toBeLessThan(2e-4);
  });

  it("mistral Hugging Face folder (MistralForCausalLM, sliding_window 3)", async () => {
    const m = sharpened(tinyModel({ arch: "llama", slidingWindow: 3, seed: 11 }));
    const dir = tmp.folder("mistral-hf", tinyHfFolder(m));
    const source = await openModelSource(dir);
    expect(source.config.slidingWindow).toBe(3);
    await source.close();
    expect(await maxLogitError(dir, ids)).toBeLessThan(2e-4);
  });

  it("gemma3 GGUF: 5 local layers (window 3, base 10000) and a global one, GeGLU, post-norms, √d embeddings", async () => {
    const m = sharpened(tinyModel({ arch: "gemma3", layers: 6, headDim: 16, seed: 12 }));
    expect(windowEffect(m)).toBeGreaterThan(0.1);
    const file = tmp.write("gemma3.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids)).toBeLessThan(2e-4);
  });

  it("gemma3 Hugging Face folder: (1 + w) norms, query_pre_attn_scalar, final soft-capping", async () => {
    const m = sharpened(tinyModel({ arch: "gemma3", layers: 6, headDim: 16, seed: 13 }));
    Object.assign(m.config, { attentionScale: 1 / Math.sqrt(64), finalLogitSoftcap: 2 });
    const dir = tmp.folder("gemma3-hf", tinyHfFolder(m));
    const source = await openModelSource(dir);
    expect(source.config).toMatchObject({
      attentionScale: 1 / 8,
      finalLogitSoftcap: 2,
      ropeLocalTheta: 10000,
    });
    await source.close();
    expect(await maxLogitError(dir, ids)).toBeLessThan(2e-4);
  });

  it("qwen2 Hugging Face folder", async () => {
    const m = sharpened(tinyModel({ arch: "qwen2", seed: 6 }));
    const dir = tmp.folder("qwen2-hf", tinyHfFolder(m));
    expect(await maxLogitError(dir, ids)).toBeLessThan(2e-4);
  });

  describe("phi3: fused qkv and gate/up, partial rotary 0.75, LongRoPE", () => {
    // Trained for 512 positions, originally 64: a 64-position context takes the short factors, 128 the long.
    const m = sharpened(
      tinyPhi3({
        partialRotary: 0.75,
        longRope: { contextLength: 512, originalContextLength: 64 },
        std: 0.1,
      }),
    );
    const gguf = tmp.write("phi3.gguf", phi3Gguf(m));
    const hf = tmp.folder("phi3-hf", phi3HfFolder(m));

    it("reads the GGUF and the HF folder as the same model", async () => {
      const a = await openModelSource(gguf);
      const b = await openModelSource(hf);
      try {
        expect(b.config.rotaryDim).toBe(24);
        // GGUF stores the attention factor as f32; everything else reads back identically.
        const factor = (s: typeof a) => (s.config.ropeScaling as { attentionFactor: number }).attentionFactor;
        expect(factor(a)).toBeCloseTo(factor(b), 6);
        const plain = (s: typeof a) => ({
          ...s.config,
          name: "",
          ropeScaling: { ...s.config.ropeScaling, attentionFactor: 0 },
        });
        expect(plain(a)).toEqual(plain(b));
        expect(a.config.ropeScaling?.type).toBe("longrope");
        for (const name of ["layers.1.wk", "layers.2.w_gate", "layers.2.w_up"] as TensorName[])
          expect(await a.readTensor(name)).toEqual(await b.readTensor(name));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    for (const contextLength of [64, 128]) {
      it(`GGUF and HF folder at a context of ${contextLength} (${contextLength > 64 ? "long" : "short"} factors)`, async () => {
        expect(await maxLogitError(gguf, ids, false, {}, { model: m, contextLength })).toBeLessThan(2e-4);
        expect(await maxLogitError(hf, ids, false, {}, { model: m, contextLength })).toBeLessThan(2e-4);
      });
    }

    it("the short/long choice and the reordered rows matter (the reference notices each)", () => {
      const { config, tensors } = m;
      const w = (n: TensorName) => tensors.get(n)?.data;
      const short = referenceLogits(config, w, ids, 64);
      const long = referenceLogits(config, w, ids, 128);
      const whole = referenceLogits({ ...config, rotaryDim: undefined, ropeScaling: undefined }, w, ids, 64);
      const diff = (a: Float64Array[], b: Float64Array[]) =>
        Math.max(...a.map((row, p) => Math.max(...row.map((v, i) => Math.abs(v - b[p][i])))));
      expect(diff(short, long)).toBeGreaterThan(1e-2);
      expect(diff(short, whole)).toBeGreaterThan(1e-2);
    });
  });
});

/** How far the reference's logits move when the model's sliding window is ignored. */
function windowEffect(m: ReturnType<typeof tinyModel>): number {
  const w = (n: TensorName) => m.tensors.get(n)?.data;
  const windowed = referenceLogits(m.config, w, ids);
  const full = referenceLogits({ ...m.config, slidingWindow: undefined }, w, ids);
  return Math.max(...windowed.flatMap((row, p) => Array.from(row, (v, t) => Math.abs(v - full[p][t]))));
}

describe.runIf(kernel.available)("architectures in the native kernels (int8 decode)", () => {
  it("mistral: the sliding window in the native attention", async () => {
    const m = sharpened(tinyModel({ arch: "llama", slidingWindow: 3, seed: 10 }));
    const file = tmp.write("mistral-native.gguf", tinyGguf(m).bytes);
    // int8 moves this sharpened model's logits by ~4% of their scale; without the window, further.
    const error = await maxLogitError(file, ids, true);
    expect(error).toBeLessThan(0.06);
    expect(await maxLogitError(file, ids, true, { slidingWindow: undefined })).toBeGreaterThan(3 * error);
  });

  it("gemma3: GeGLU, post-norms, scale, local rotary and soft-capping in the native kernels", async () => {
    const m = sharpened(tinyModel({ arch: "gemma3", layers: 6, headDim: 16, seed: 12 }));
    Object.assign(m.config, { finalLogitSoftcap: 1 });
    const file = tmp.write("gemma3-native.gguf", tinyGguf(m).bytes);
    // int8 moves these logits by ~5% of their scale (onnxruntime's int8 graphs by as much); each
    // Gemma feature left out would move them much further.
    const error = await maxLogitError(file, ids, true);
    expect(error).toBeLessThan(0.08);
    const without: Partial<ModelConfig>[] = [
      { activation: undefined },
      { postNorms: false },
      { embedScale: undefined },
      { ropeLocalTheta: undefined },
      { finalLogitSoftcap: undefined },
      { slidingWindow: undefined },
    ];
    for (const change of without) {
      const missing = await maxLogitError(file, ids, true, change);
      expect(missing, `without ${Object.keys(change)[0]}`).toBeGreaterThan(2.5 * error);
    }
  });

  it("qwen3: q/k norms in the native attention", async () => {
    const m = sharpened(tinyModel({ arch: "qwen3", tied: false, headDim: 16, seed: 8 }));
    const file = tmp.write("qwen3-native.gguf", tinyGguf(m).bytes);
    expect(await maxLogitError(file, ids, true)).toBeLessThan(0.03);
  });
});
describe.runIf(kernel.available)("int4 packages of the new architectures", () => {
  // int4 moves these small random models' logits by 20-30% of their scale, on onnxruntime's
  // graphs and in the native kernels alike; a missing window or norm moves them by 100% or more.
  it.each([
    ["qwen3", () => tinyModel({ arch: "qwen3", tied: false, headDim: 16, seed: 8 })],
    ["mistral", () => tinyModel({ arch: "llama", slidingWindow: 3, seed: 10 })],
    ["gemma3", () => tinyModel({ arch: "gemma3", layers: 6, headDim: 16, seed: 12 })],
  ] as const)(
    "%s: onnxruntime int4 and native int4 stay within int4 error of the reference",
    async (name, make) => {
      const file = tmp.write(`${name}-int4.gguf`, tinyGguf(sharpened(make())).bytes);
      const source = await openModelSource(file);
      const weights = new Map<TensorName, Float32Array>();
      for (const n of source.tensors.keys()) weights.set(n, await source.readTensor(n));
      const expected = referenceLogits(source.config, (n) => weights.get(n), ids);
      await source.close();
      const scale = Math.max(...expected.map((row) => Math.max(...row.map(Math.abs))));
      const runs: Float32Array[] = [];
      for (const native of [false, true]) {
        const r = await importModel(file, { modelsDir: tmp.dir, quant: "int4", native });
        const runner = await ModelRunner.load(r.dir, {
          threads: 1,
          executionProvider: "cpu",
          contextLength: 64,
          native,
        });
        try {
          if (native) expect(runner.native?.decodesNatively).toBe(true);
          runs.push(await new Decoder(runner).allLogits(ids));
        } finally {
          await runner.dispose();
        }
      }
      const V = expected[0].length;
      for (const all of runs) {
        let worst = 0;
        for (let p = 0; p < ids.length; p++)
          for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(all[p * V + v] - expected[p][v]));
        expect(worst / scale).toBeLessThan(0.45);
      }
      let apart = 0;
      runs[0].forEach((v, i) => (apart = Math.max(apart, Math.abs(v - runs[1][i]))));
      console.log(
        `[${name} int4] onnxruntime and native ${(apart / scale).toFixed(3)} of the logits' scale apart`,
      );
      // The two share the int4 rounding of the weights, so they stay much closer to each other.
      expect(apart / scale).toBeLessThan(0.1);
    },
  );
});
