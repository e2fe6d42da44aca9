// Early exit and sparse FFNs calibrate on every architecture: a small synthetic model of each
// (int8, so the native kernels and their sparse FFN form are used), a short calibration, and a
// knob that moves the mean exit layer.
import { afterAll, describe, expect, it } from "vitest";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { syntheticGguf, syntheticModel } from "../test-support/synthetic-gguf.js";
import type { TinyModel } from "../test-support/tiny-models.js";
import { loadNativeKernels } from "../kernels/index.js";
import { importModel } from "./import-model.js";
import { calibrateModel } from "./calibrate-model.js";

const tmp = makeTempDir("exitlane-arch-calibration-");
afterAll(() => tmp.cleanup());
const kernel = loadNativeKernels();
if (!kernel.available) console.warn(`[skip] sparse part of the calibration checks: ${kernel.detail}`);

async function calibrated(label: string, m: TinyModel) {
  const file = tmp.write(`${label}.gguf`, await syntheticGguf(m, vocabOnly.llamaSpm));
  const { manifest } = await importModel(file, { modelsDir: tmp.dir, quant: "int8", name: label });
  const started = performance.now();
  const { manifest: after, result } = await calibrateModel(
    manifest.id,
    { modelsDir: tmp.dir, threads: 1, contextLength: 512 },
    { textSeconds: 0.3, tokensPerPrompt: 16, curveKnobs: [0.2, 1] },
  );
  const curve = result.curve;
  console.log(
    `[${label} calibration] ${((performance.now() - started) / 1000).toFixed(1)} s, curve ${JSON.stringify(curve)}, sparse levels ${after.native?.thresholds?.levels.length ?? "none"}`,
  );
  expect(curve.at(-1)!.meanExitLayer).toBeLessThan(curve[0].meanExitLayer);
  if (kernel.available) expect(after.native?.thresholds?.byLayer.length).toBe(m.config.numLayers);
}

const vocabulary = haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf");

describe.runIf(vocabulary)("calibration per architecture", () => {
  it("qwen3", async () => {
    await calibrated("qwen3", syntheticModel("qwen3", 32000, { headDim: 16, seed: 41 }));
  });

  it("mistral (sliding window 8, shorter than the calibration text)", async () => {
    await calibrated("mistral", syntheticModel("llama", 32000, { slidingWindow: 8, seed: 42 }));
  });

  it("gemma3 (6 layers: 5 local with window 8, 1 global; GeGLU sparse FFNs)", async () => {
    const m = syntheticModel("gemma3", 32000, { layers: 6, headDim: 16, slidingWindow: 8, seed: 43 });
    m.config.finalLogitSoftcap = 30;
    await calibrated("gemma3", m);
  });
});
