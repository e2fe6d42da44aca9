// Sparse FFNs end to end on the real stories260K model: calibrated CATS thresholds, agreement with
// the dense FFNs, a knob mapping only onto levels that measured faster, and the clean fallback to
// dense when the kernel is missing.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { loadNativeKernels } from "../kernels/index.js";
import { importModel } from "../engine/import-model.js";
import { calibrateModel } from "../engine/calibrate-model.js";
import { LoadedModel } from "../engine/loaded-model.js";
import { MEASURED_LEVELS } from "./sparsity.js";
import { sparsityForKnob } from "../runtime/knob.js";

const kernel = loadNativeKernels();
if (!kernel.available) console.warn(`[skip] sparse FFN tests: ${kernel.detail}`);
const available = haveShared("models/stories260K/reference/stories.json") && kernel.available;

describe.skipIf(!available)("sparse FFNs on stories260K (native kernel)", () => {
  const tmp = makeTempDir("exitlane-sparse-");
  let id: string;
  let model: LoadedModel;
  const progress: { f: number; detail: string }[] = [];

  beforeAll(async () => {
    // One copy (the default): the FFNs' rows that sparse passes and calibration use are made from
    // the packed FFNs at load.
    id = (await importModel(stories.gguf, { modelsDir: tmp.dir, quant: "int8" })).manifest.id;
    await calibrateModel(
      id,
      { modelsDir: tmp.dir, threads: 1 },
      { onProgress: (f, detail) => progress.push({ f, detail }) },
    );
    model = await LoadedModel.load(id, {
      modelsDir: tmp.dir,
      threads: 1,
      contextLength: 1024,
      sparseRows: true,
    });
  }, 240_000);
  afterAll(async () => {
    await model?.dispose();
    tmp.cleanup();
  });

  it("reports one progress for both calibrations: rising, sparse thresholds last", () => {
    const fs = progress.map((p) => p.f);
    expect(fs).toEqual([...fs].sort((a, b) => a - b));
    expect(progress.find((p) => p.detail === "calibrating sparse FFNs")?.f).toBeGreaterThanOrEqual(0.85);
    expect(progress.at(-1)?.detail).toBe("calibrating sparse FFNs");
  });

  it("loads with calibrated thresholds, and maps the knob only onto levels measured faster than dense", () => {
    const table = model.runner.native!.table!;
    expect(table.agreement?.length).toBe(table.levels.length);
    expect(table.speedup?.length).toBe(table.levels.length);
    for (const level of MEASURED_LEVELS) {
      const i = table.levels.indexOf(level);
      expect(table.agreement![i]).toBeGreaterThan(0.5);
      expect(table.speedup![i]).toBeGreaterThan(0);
    }
    console.log(
      `[sparse stories260K] measured levels ${MEASURED_LEVELS}: agreement ${MEASURED_LEVELS.map((l) => table.agreement![table.levels.indexOf(l)])}, speed vs dense ${MEASURED_LEVELS.map((l) => table.speedup![table.levels.indexOf(l)])}`,
    );
    expect(sparsityForKnob(0, table)).toBe(0);
    const atDefault = sparsityForKnob(0.5, table);
    if (atDefault > 0) expect(table.speedup![table.levels.indexOf(atDefault)]).toBeGreaterThan(1.02);
    expect(sparsityForKnob(1, table)).toBeGreaterThanOrEqual(atDefault);
  });

  it("at 30% sparsity skips neurons and keeps ≥ 95% teacher-forced agreement with the dense FFNs", async () => {
    const list = JSON.parse(readFileSync(stories.reference("stories"), "utf8")).stories as {
      ids: number[];
    }[];
    const level = 0.3;
    const run = async (s: number) => {
      model.setSparsity(s);
      model.runner.native!.active = model.runner.native!.offered = 0;
      let same = 0;
      let nll = 0;
      let n = 0;
      for (const story of list) {
        const r = await model.evaluate(story.ids, {});
        same += r.agreement * r.tokens;
        nll += r.nll * r.tokens;
        n += r.tokens;
      }
      return {
        agreement: same / n,
        perplexity: Math.exp(nll / n),
        active: model.runner.native!.active / model.runner.native!.offered,
      };
    };
    const dense = await run(0);
    const sparse = await run(level);
    console.log(
      `[sparse stories260K] level ${level}: agreement ${sparse.agreement.toFixed(4)}, active neurons ${sparse.active.toFixed(3)}, perplexity ${dense.perplexity.toFixed(4)} -> ${sparse.perplexity.toFixed(4)}`,
    );
    expect(sparse.active).toBeLessThan(1 - level / 2);
    expect(sparse.agreement).toBeGreaterThanOrEqual(0.95);
  });

  it("falls back to onnxruntime's layers when the kernel is unavailable (all forms), or says to import again (one copy)", async () => {
    const all = (
      await importModel(stories.gguf, {
        modelsDir: tmp.dir,
        quant: "int8",
        allForms: true,
        name: "all forms",
      })
    ).manifest.id;
    const before = process.env.EXITLANE_NATIVE;
    process.env.EXITLANE_NATIVE = "off";
    try {
      await expect(
        LoadedModel.load(id, { modelsDir: tmp.dir, threads: 1, contextLength: 256 }),
      ).rejects.toThrow(
        /holds only their form of its weights.*disabled by EXITLANE_NATIVE.*Import the model file again/,
      );
      const dense = await LoadedModel.load(all, { modelsDir: tmp.dir, threads: 1, contextLength: 256 });
      expect(dense.runner.native).toBeNull();
      const ids: number[] = [];
      for await (const t of dense.generate({
        promptIds: dense.encodeRaw("Once upon a time"),
        maxTokens: 8,
        sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 },
      }))
        ids.push(t.id);
      expect(ids.length).toBe(8);
      await dense.dispose();
      await expect(
        LoadedModel.load(all, { modelsDir: tmp.dir, native: true, contextLength: 256 }),
      ).rejects.toThrow(/disabled by EXITLANE_NATIVE/);
    } finally {
      if (before === undefined) delete process.env.EXITLANE_NATIVE;
      else process.env.EXITLANE_NATIVE = before;
    }
  });
});
