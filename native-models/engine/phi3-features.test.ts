// Early exit and sparse FFNs on a synthetic Phi-3 (fused projections split at read time, partial
// rotary, LongRoPE): calibration finishes quickly, the knob moves the mean exit layer, the native
// int8 layers decode it like onnxruntime's graphs, and sparse FFNs skip neurons.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { phi3Gguf, tinyPhi3 } from "../test-support/phi3-writer.js";
import { vocabularyKeys } from "../test-support/synthetic-gguf.js";
import { loadNativeKernels } from "../kernels/index.js";
import { importModel } from "./import-model.js";
import { calibrateModel } from "./calibrate-model.js";
import { LoadedModel } from "./loaded-model.js";
import type { CalibrationResult } from "../early-exit/calibrate.js";
import { ModelRunner } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";
import { resolvePackage } from "../package/models-dir.js";

const kernel = loadNativeKernels();
if (!kernel.available) console.warn(`[skip] phi3 sparse FFN test: ${kernel.detail}`);

describe.runIf(haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf"))(
  "phi3: early exit and sparse FFNs",
  () => {
    const tmp = makeTempDir("exitlane-phi3-features-");
    let id: string;
    let calibration: CalibrationResult;
    let model: LoadedModel;

    beforeAll(async () => {
      // Small and shallow so calibration takes seconds; the Llama vocabulary so the calibration text tokenizes.
      const m = tinyPhi3({
        vocab: 32000,
        layers: 4,
        heads: 6,
        kvHeads: 2,
        headDim: 16,
        ff: 256,
        partialRotary: 0.75,
        longRope: { contextLength: 4096, originalContextLength: 1024 },
        qkStd: 0.08,
      });
      const file = tmp.write(
        "phi3.gguf",
        phi3Gguf(m, { vocab: (await vocabularyKeys(vocabOnly.llamaSpm)).keys }),
      );
      // All forms: the native decode is compared with onnxruntime's graphs of the same package.
      id = (await importModel(file, { modelsDir: tmp.dir, quant: "int8", allForms: true })).manifest.id;
      calibration = (
        await calibrateModel(id, { modelsDir: tmp.dir, threads: 1 }, { textSeconds: 1, tokensPerPrompt: 48 })
      ).result;
      model = await LoadedModel.load(id, {
        modelsDir: tmp.dir,
        threads: 1,
        contextLength: 512,
        sparseRows: true,
      });
    }, 120_000);
    afterAll(async () => {
      await model?.dispose();
      tmp.cleanup();
    });

    it("calibrates quickly, and the knob changes the mean exit layer", async () => {
      console.log(
        `[phi3 calibration] ${calibration.seconds.toFixed(1)} s, curve ${JSON.stringify(calibration.curve)}`,
      );
      expect(calibration.seconds).toBeLessThan(30);
      const layers = calibration.curve.map((c) => c.meanExitLayer);
      expect(Math.max(...layers) - Math.min(...layers)).toBeGreaterThan(0.05);
      const ids = model.encodeRaw("In the beginning was the word, and the word was with the model.");
      const low = await model.evaluate(ids, model.exitAt(0.2));
      const high = await model.evaluate(ids, model.exitAt(1));
      console.log(
        `[phi3 early exit] mean exit layer ${low.meanExitLayer} (knob 0.2) -> ${high.meanExitLayer} (knob 1)`,
      );
      expect(high.meanExitLayer).toBeLessThan(low.meanExitLayer);
    });

    it.runIf(kernel.available)("native int8 decode agrees with onnxruntime's int8 graphs", async () => {
      const dir = await resolvePackage(tmp.dir, id);
      const open = (native: boolean) =>
        ModelRunner.load(dir, { threads: 1, executionProvider: "cpu", contextLength: 512, native });
      const [a, b] = [await open(true), await open(false)];
      try {
        expect(a.native?.decodesNatively).toBe(true);
        const [da, db] = [new Decoder(a), new Decoder(b)];
        const ids = model.encodeRaw("And God said, Let there be light: and there was light.");
        let worst = 0;
        let same = 0;
        for (const t of ids) {
          const [x, y] = [(await da.step(t)).logits, (await db.step(t)).logits];
          x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]))));
          const top = (l: Float32Array) => l.indexOf(Math.max(...l));
          if (top(x) === top(y)) same++;
        }
        console.log(
          `[phi3 native decode] max |Δlogit| ${worst.toExponential(2)}, top-1 same ${same}/${ids.length}`,
        );
        expect(worst).toBeLessThan(0.05);
      } finally {
        await Promise.all([a.dispose(), b.dispose()]);
      }
    });

    it.runIf(kernel.available)("sparse FFNs skip neurons on the split gate/up weights", async () => {
      expect(model.runner.native).not.toBeNull();
      const ids = model.encodeRaw("In the beginning was the word, and the word was with the model.");
      const native = model.runner.native!;
      model.setSparsity(0);
      const dense = await model.evaluate(ids, {});
      model.setSparsity(0.5);
      native.active = native.offered = 0;
      const sparse = await model.evaluate(ids, {});
      console.log(
        `[phi3 sparse] active neurons ${(native.active / native.offered).toFixed(3)}, agreement ${sparse.agreement.toFixed(3)} (dense ${dense.agreement.toFixed(3)})`,
      );
      expect(native.active / native.offered).toBeLessThan(0.8);
      expect(sparse.agreement).toBeGreaterThan(0.5);
    });
  },
);
