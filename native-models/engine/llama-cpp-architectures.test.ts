// Each supported architecture against llama.cpp (node-llama-cpp's CPU backend) on a synthetic GGUF
// with the metadata keys and tensor names llama.cpp expects: top-1 identical wherever llama.cpp's
// own top-1/top-2 margin exceeds 1e-3. The same weights as a Hugging Face folder give the GGUF's logits.
import { afterAll, describe, expect, it } from "vitest";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { compareTop1, llamaCppLogits, llamaCppVariant } from "../test-support/llama-cpp-logits.js";
import { syntheticGguf, syntheticModel } from "../test-support/synthetic-gguf.js";
import { tinyHfFolder } from "../test-support/hf-writer.js";
import type { TinyModel } from "../test-support/tiny-models.js";
import { importModel } from "./import-model.js";
import { ModelRunner } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";

const tmp = makeTempDir("exitlane-llamacpp-arch-");
afterAll(() => tmp.cleanup());

const VOCAB = 32000; // ggml-vocab-llama-spm.gguf
/** A fixed pseudo-random token sequence starting with BOS. */
const ids = [1, ...Array.from({ length: 23 }, (_, i) => 3 + ((i * 7919 + 104729) % (VOCAB - 3)))];

/** Our f32 engine's logits at every position (onnxruntime's prefill graphs), one row each. */
async function ourLogits(input: string, name: string): Promise<Float32Array[]> {
  const r = await importModel(input, { modelsDir: tmp.dir, quant: "f32", name });
  const runner = await ModelRunner.load(r.dir, { threads: 1, executionProvider: "cpu", contextLength: 64 });
  try {
    const all = await new Decoder(runner).allLogits(ids);
    const V = runner.config.vocabSize;
    return ids.map((_, i) => all.slice(i * V, (i + 1) * V));
  } finally {
    await runner.dispose();
  }
}

/**
 * `positions`: how many leading positions llama.cpp computes the same way (default: all).
 * `tolerance`: the largest |Δ log-softmax| accepted.
 */
async function againstLlamaCpp(
  label: string,
  m: TinyModel,
  positions = ids.length,
  tolerance = 1e-3,
): Promise<{ ours: Float32Array[]; theirs: Float32Array[] }> {
  const file = tmp.write(`${label}.gguf`, await syntheticGguf(m, vocabOnly.llamaSpm));
  const ours = await ourLogits(file, label);
  const theirs = await llamaCppLogits(file, ids);
  const r = compareTop1(ours.slice(0, positions), theirs.slice(0, positions), 1e-3);
  console.log(
    `[${label} vs ${await llamaCppVariant()}] top-1 compared at ${r.compared}/${positions} positions, ` +
      `${r.mismatches.length} mismatches, max |Δ log-softmax| ${r.maxAbsDelta.toExponential(2)}`,
  );
  expect(r.compared).toBeGreaterThanOrEqual(positions / 2);
  expect(r.mismatches).toEqual([]);
  expect(r.maxAbsDelta).toBeLessThan(tolerance);
  return { ours, theirs };
}

async function sameAsHf(label: string, m: TinyModel, fromGguf: Float32Array[]): Promise<void> {
  const dir = tmp.folder(`${label}-hf`, tinyHfFolder(m));
  const fromHf = await ourLogits(dir, `${label}-hf`);
  let worst = 0;
  fromHf.forEach((row, p) => row.forEach((v, t) => (worst = Math.max(worst, Math.abs(v - fromGguf[p][t])))));
  expect(worst).toBeLessThan(1e-4);
}

const vocabulary = haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf");

describe.runIf(vocabulary)("architectures against llama.cpp", () => {
  it("qwen3: q/k norms, head_dim 16 with hidden 64 / 8 heads, untied head; HF folder the same", async () => {
    const m = syntheticModel("qwen3", VOCAB, { headDim: 16, tied: false, seed: 31 });
    await sameAsHf("qwen3", m, (await againstLlamaCpp("qwen3", m)).ours);
  });

  it("mistral: llama with llama.attention.sliding_window 16 over 24 tokens; HF folder the same", async () => {
    // llama.cpp reads the key but its llama graph never applies the window, so the two agree only
    // on the first 16 positions; past them our windowed attention is checked against the
    // reference forward pass (architectures.test.ts), and here it must differ from llama.cpp's.
    const window = 16;
    const m = syntheticModel("llama", VOCAB, { slidingWindow: window, seed: 32 });
    const { ours, theirs } = await againstLlamaCpp("mistral", m, window);
    await sameAsHf("mistral", m, ours);
    const late = compareTop1(ours.slice(window), theirs.slice(window), 1e-3);
    expect(late.maxAbsDelta).toBeGreaterThan(1e-2);
  });

  it("gemma3: 5 local layers (window 8 over 24 tokens) and a global one, GeGLU, post-norms, soft-capping 1; HF folder the same", async () => {
    const m = syntheticModel("gemma3", VOCAB, { layers: 6, headDim: 16, slidingWindow: 8, seed: 33 });
    // llama.cpp applies gemma3.final_logit_softcapping when the file has it (Gemma 3 files
    // usually do not); a cap near the logits' own size makes it matter.
    m.config.finalLogitSoftcap = 1;
    // llama.cpp's CPU GELU reads a float16 table (input and output rounded to f16): ~1e-3 apart
    // from the exact tanh GELU our engine and the float64 reference agree on (2e-4).
    await sameAsHf("gemma3", m, (await againstLlamaCpp("gemma3", m, ids.length, 3e-3)).ours);
  });
});
