// The sizes an import announces from the header against the packages it then writes: the real
// stories260K (tied head, ffn rows of 172) in all three formats and kjv16 (16 layers, untied head,
// grouped-query attention), at each quantization the app offers, byte for byte; and tiny Qwen2,
// Qwen3 and Gemma 3 files for the optional parts (biases, q/k norms, post-norms).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { haveShared, kjv16, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { tinyGguf, tinyModel } from "../test-support/tiny-models.js";
import { importModel } from "../engine/import-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import type { QuantSizes } from "./package-size.js";

const tmp = makeTempDir("exitlane-package-size-");
afterAll(() => tmp.cleanup());
const kernel = loadNativeKernels();
if (!kernel.available) console.warn(`[note] package sizes checked without native files: ${kernel.detail}`);

const quants = ["int4", "int8", "f16"] as const;

/** Every file the package folder holds, but its manifest (which names the package, not its weights). */
function folderBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f !== "manifest.json")
    .reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

async function importAndMeasure(
  input: string,
  quant: (typeof quants)[number],
  native?: boolean,
  allForms?: boolean,
) {
  let sizes: QuantSizes | undefined;
  let planned: string | undefined;
  const r = await importModel(input, {
    modelsDir: tmp.dir,
    quant,
    name: `${path.basename(input)}-${quant}-${native ?? "auto"}-${allForms ?? "one"}`,
    ...(native === undefined ? {} : { native }),
    ...(allForms === undefined ? {} : { allForms }),
    onPlan: (plan) => {
      sizes = plan.sizes;
      planned = plan.quant;
    },
  });
  expect(planned).toBe(quant);
  return {
    predicted: sizes![quant],
    actual: folderBytes(r.dir),
    manifest: r.manifest.sizeBytes,
    sizes: sizes!,
    files: readdirSync(r.dir),
  };
}

const real = [
  ["stories260K GGUF", stories.gguf, "models/stories260K/gguf/stories260K-f32.gguf"],
  ["stories260K HF", stories.hf, "models/stories260K/hf/model.safetensors"],
  ["stories260K llama2.c", stories.llama2c, "models/stories260K/llama2c/stories260K.bin"],
  ["kjv16 GGUF", kjv16.gguf, "models/kjv16/kjv16-f32.gguf"],
  ["kjv16 Q8_0 GGUF", kjv16.ggufQ8, "models/kjv16/kjv16-q8_0.gguf"],
] as const;

describe("package size announced at import", () => {
  for (const [label, input, fixture] of real) {
    describe.skipIf(!haveShared(fixture))(label, () => {
      it.each(quants)("%s: the announced size is the package's, byte for byte", async (quant) => {
        const m = await importAndMeasure(input, quant);
        console.info(`[size] ${label} ${quant}: announced ${m.predicted}, written ${m.actual}`);
        expect(m.predicted).toBe(m.actual);
        expect(m.manifest).toBe(m.actual);
        // Not int8 < f16: integer packages also carry the native kernels' copy of the weights.
        expect(m.sizes.int4).toBeLessThan(m.sizes.int8);
      });
    });
  }

  it.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
    "each form announces its own size: onnxruntime's alone, the native one alone (one copy), all forms",
    async () => {
      const onnx = await importAndMeasure(stories.gguf, "int8", false);
      expect(onnx.predicted).toBe(onnx.actual);
      expect(onnx.files.filter((f) => f.endsWith(".native") || f.endsWith(".dense"))).toEqual([]);
      if (kernel.available) {
        const one = await importAndMeasure(stories.gguf, "int8", true);
        expect(one.predicted).toBe(one.actual);
        // Each weight once: no onnxruntime graphs, no per-neuron rows beside the packed FFNs.
        expect(
          one.files.filter((f) => /\.(onnx|sparse)$/.test(f) || /^(layer\d+|head)\.bin$/.test(f)),
        ).toEqual([]);
        const all = await importAndMeasure(stories.gguf, "int8", true, true);
        expect(all.predicted).toBe(all.actual);
        expect(all.actual).toBeGreaterThan(Math.max(one.actual, onnx.actual));
      }
    },
  );

  it.each([
    ["qwen2 (q/k/v bias)", tinyModel({ arch: "qwen2", seed: 3 })],
    ["qwen3 (q/k norms, untied head)", tinyModel({ arch: "qwen3", tied: false, headDim: 16, seed: 8 })],
    ["gemma3 (post-norms)", tinyModel({ arch: "gemma3", layers: 6, headDim: 16, seed: 12 })],
  ] as const)("%s: byte for byte at each quantization", async (label, model) => {
    const file = tmp.write(`${label.split(" ")[0]}.gguf`, tinyGguf(model).bytes);
    for (const quant of quants) {
      const m = await importAndMeasure(file, quant);
      expect(m.predicted, quant).toBe(m.actual);
    }
  });
});
