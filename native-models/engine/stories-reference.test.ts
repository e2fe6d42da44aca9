// The engine against reference outputs made by independent code (a numpy forward pass of
// llama2.c's run.c) for the real stories260K model, imported from all three formats.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, stories } from "../test-support/shared-fixtures.js";
import { importModel } from "./import-model.js";
import { LoadedModel } from "./loaded-model.js";
import type { WeightQuant } from "../convert/linear.js";

interface GreedyCase {
  prompt: string;
  prompt_ids: number[];
  new_ids: number[];
  margins: number[];
}
interface Story {
  ids: number[];
  argmax: number[];
  mean_nll: number;
}

const available = haveShared("models/stories260K/reference/greedy.json");
const NEAR_TIE = 0.005;

describe.skipIf(!available)("stories260K against the reference forward pass", () => {
  let modelsDir: string;
  let greedy: GreedyCase[];
  let storyList: Story[];
  const models = new Map<string, LoadedModel>();

  async function model(source: string, quant: WeightQuant): Promise<LoadedModel> {
    const key = `${source}-${quant}`;
    if (!models.has(key)) {
      const input = { gguf: stories.gguf, hf: stories.hf, llama2c: stories.llama2c }[source]!;
      const r = await importModel(input, { modelsDir, quant, name: key });
      models.set(key, await LoadedModel.load(r.manifest.id, { modelsDir, threads: 1, contextLength: 1024 }));
    }
    return models.get(key)!;
  }

  beforeAll(() => {
    modelsDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-stories-"));
    greedy = JSON.parse(readFileSync(stories.reference("greedy"), "utf8")).cases;
    storyList = JSON.parse(readFileSync(stories.reference("stories"), "utf8")).stories;
  });
  afterAll(async () => {
    for (const m of models.values()) await m.dispose();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  for (const source of ["gguf", "hf", "llama2c"]) {
    it(`${source} f32: greedy ids equal the reference up to the first near-tie, for every prompt`, async () => {
      const m = await model(source, "f32");
      for (const c of greedy) {
        // Compare the tokens before the first step whose top-1/top-2 margin is a near-tie.
        const firstTie = c.margins.findIndex((x) => x < NEAR_TIE);
        const n = firstTie < 0 ? c.new_ids.length : firstTie + 1;
        const ids: number[] = [];
        const it = m.generate({
          promptIds: c.prompt_ids,
          maxTokens: n,
          ignoreEos: true,
          sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 },
        });
        for await (const t of it) ids.push(t.id);
        expect(ids, `prompt ${JSON.stringify(c.prompt)}`).toEqual(c.new_ids.slice(0, n));
      }
    });
  }

  it("tokenizes the reference prompts exactly like SentencePiece (all three sources)", async () => {
    for (const source of ["gguf", "hf", "llama2c"]) {
      const m = await model(source, "f32");
      for (const c of greedy)
        expect(m.encodeRaw(c.prompt), `${source} ${JSON.stringify(c.prompt)}`).toEqual(c.prompt_ids);
    }
  });

  it("f32 eval: mean NLL within 1% of the reference and argmax equal to the reference", async () => {
    const m = await model("gguf", "f32");
    for (const s of storyList) {
      const r = await m.evaluate(s.ids);
      expect(Math.abs(r.nll - s.mean_nll) / s.mean_nll).toBeLessThan(0.01);
      const same = r.fullArgmax.filter((t, i) => t === s.argmax[i]).length;
      expect(same / r.fullArgmax.length).toBeGreaterThan(0.995);
    }
  });

  it("int8: teacher-forced agreement with the f32 argmax ≥ 97%; int4 reported", async () => {
    const report: Record<string, number> = {};
    for (const quant of ["int8", "int4"] as const) {
      const m = await model("gguf", quant);
      let same = 0;
      let total = 0;
      for (const s of storyList) {
        const r = await m.evaluate(s.ids);
        same += r.fullArgmax.filter((t, i) => t === s.argmax[i]).length;
        total += r.fullArgmax.length;
      }
      report[quant] = same / total;
    }
    console.log(`[stories260K] teacher-forced argmax agreement with f32: ${JSON.stringify(report)}`);
    expect(report.int8).toBeGreaterThanOrEqual(0.97);
  });
});
