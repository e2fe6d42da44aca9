// Lossless speculative decoding and exact deferred K/V on a real deep model (kjv16): the tokens are
// exactly the full-depth ones, and the pieces it rests on (prompt lookup, speculative sampling) do
// what they claim.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, kjv16 } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { importModel } from "../engine/import-model.js";
import { LoadedModel } from "../engine/loaded-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import { Sampler, argmax, type SamplingParams } from "./sampler.js";
import { promptLookup } from "./speculative.js";
import { DraftTable } from "./draft-table.js";
import type { ExitStrategy } from "./decoder.js";
import { drain } from "../test-support/drain.js";

const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

describe("prompt lookup", () => {
  it("continues the latest earlier occurrence of the longest matching ending", () => {
    //           0  1  2  3  4  5  6  7  8  9
    const text = [5, 6, 7, 8, 1, 6, 7, 9, 2, 6, 7];
    // "6 7" occurred at 1-2 (then 8) and at 5-6 (then 9, 2): the latest wins.
    expect(promptLookup(text, 2, 3)).toEqual({ tokens: [9, 2, 6], match: 2 });
    expect(promptLookup([1, 2, 3, 1, 2, 3], 2, 2)).toEqual({ tokens: [1, 2], match: 3 });
    expect(promptLookup([4, 5, 6], 2, 4)).toEqual({ tokens: [], match: 0 });
    // A longer match wins over a later, shorter one.
    expect(promptLookup([1, 2, 3, 4, 5, 6, 9, 8, 5, 6, 7, 1, 2, 3, 4, 5, 6], 2, 2)).toEqual({
      tokens: [9, 8],
      match: 6,
    });
  });
});

describe("speculative sampling", () => {
  it("draws exactly what plain sampling draws, whatever the draft", () => {
    const logits = Float32Array.from([2, 1.5, 1.2, 0.3, -1, 0.9, 1.4, -0.2]);
    const params: SamplingParams = {
      temperature: 0.9,
      topK: 6,
      topP: 0.97,
      minP: 0.02,
      repetitionPenalty: 1.2,
      seed: 7,
    };
    const recent = [1, 6];
    const { ids, probs } = new Sampler(params).distribution(logits, recent);
    const want = new Map(ids.map((id, i) => [id, probs[i]]));
    const n = 40000;
    for (const draft of [0, 6, 3, 4]) {
      const sampler = new Sampler({ ...params, seed: 11 + draft });
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const { token } = sampler.verifyDraft(logits, recent, draft);
        counts.set(token, (counts.get(token) ?? 0) + 1);
      }
      for (const [id, p] of want)
        expect(Math.abs((counts.get(id) ?? 0) / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n) + 1e-3);
      for (const id of counts.keys()) expect(want.has(id)).toBe(true);
    }
  });

  it("at temperature 0 accepts exactly the argmax", () => {
    const logits = Float32Array.from([0.1, 3, 2.9]);
    const s = new Sampler(GREEDY);
    expect(s.verifyDraft(logits, [], 1)).toEqual({ accepted: true, token: 1 });
    expect(s.verifyDraft(logits, [], 2)).toEqual({ accepted: false, token: 1 });
  });
});

const available = haveShared("models/kjv16/reference/greedy.json") && loadNativeKernels().available;

describe.skipIf(!available)("kjv16: lossless decoding and exact deferred K/V", () => {
  const tmp = makeTempDir("exitlane-kjv16-spec-");
  let model: LoadedModel;

  beforeAll(async () => {
    const r = await importModel(kjv16.ggufQ8, { modelsDir: tmp.dir, quant: "int8", threads: 2 });
    model = await LoadedModel.load(r.manifest.id, { modelsDir: tmp.dir, threads: 2, contextLength: 256 });
  }, 120_000);
  afterAll(async () => {
    await model?.dispose();
    tmp.cleanup();
  });

  async function run(promptIds: number[], maxTokens: number, lossless: boolean) {
    model.decoder.reset();
    const it = model.generate({
      promptIds,
      maxTokens,
      sampling: GREEDY,
      ignoreEos: true,
      ...(lossless ? { speculation: model.speculationOptions() } : {}),
    });
    return drain(it);
  }

  it("holds the LM head once: early exit's shortlist rows are the native head's", async () => {
    const { runner } = model;
    expect(runner.manifest.lmHead).toBeUndefined();
    expect(readdirSync(runner.dir).filter((f) => f.startsWith("lm_head"))).toEqual([]);
    const d = runner.config.hiddenSize;
    const h = Float32Array.from({ length: d }, (_, i) => Math.sin(i * 0.7));
    const logits = await runner.logits(h, 1);
    const { rows, finalNorm } = runner.headRows();
    let ms = 0;
    for (const v of h) ms += v * v;
    const inv = 1 / Math.sqrt(ms / d + runner.config.rmsNormEps);
    const row = new Float32Array(d);
    for (const id of [0, 17, runner.config.vocabSize - 1]) {
      rows.row(id, row, 0);
      let dot = 0;
      for (let i = 0; i < d; i++) dot += row[i] * h[i] * inv * finalNorm[i];
      // The head quantizes its activations (int8 per block): close, not equal.
      expect(Math.abs(dot - logits[id])).toBeLessThan(0.02 * (1 + Math.abs(logits[id])));
    }
  });

  it("prefills natively, with no onnxruntime session, exactly as one-token steps would", async () => {
    expect(model.runner.kernels).toMatch(/^native /);
    // 150 tokens: two prefill chunks, and native calls of 64, 64 and 22 rows inside them.
    const text =
      "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. ";
    const ids = model.encodeRaw(text.repeat(6)).slice(0, 150);
    expect(ids.length).toBe(150);
    model.decoder.reset();
    const prefilled = (await model.decoder.prefill(ids)).slice();
    model.decoder.reset();
    await model.decoder.prefill(ids.slice(0, 1));
    let stepped: Float32Array = new Float32Array(0);
    for (const id of ids.slice(1)) stepped = (await model.decoder.step(id)).logits;
    expect(Array.from(prefilled)).toEqual(Array.from(stepped));
  }, 60_000);

  it("gives exactly the full-depth greedy ids for every reference prompt", async () => {
    const cases = JSON.parse(readFileSync(kjv16.reference("greedy"), "utf8")).cases as {
      prompt_ids: number[];
      new_ids: number[];
    }[];
    let accepted = 0;
    for (const c of cases) {
      const full = await run(c.prompt_ids, c.new_ids.length, false);
      const fast = await run(c.prompt_ids, c.new_ids.length, true);
      expect(fast.ids).toEqual(full.ids);
      accepted += fast.summary.speculation!.accepted;
    }
    // The drafts are used (a lossless mode that never drafts would pass the check above trivially).
    expect(accepted).toBeGreaterThan(20);
  }, 120_000);

  it("gives exactly the full-depth ids over 256 tokens from prompts it has not seen", async () => {
    const prompts = [
      "Blessed are they that mourn",
      "And Jesus answered and said",
      "The word of the LORD came",
      "Now the serpent was",
      "O give thanks unto the LORD",
      "And it came to pass",
      "Hear, O Israel",
      "Woe unto you",
      "In my Father's house",
      "The heavens declare",
    ];
    for (const p of prompts) {
      const ids = model.encodeRaw(p);
      const full = await run(ids, 256 - ids.length, false);
      const fast = await run(ids, 256 - ids.length, true);
      expect(fast.ids).toEqual(full.ids);
    }
  }, 300_000);

  it("drafts from the model's habits (a table from its own text) keep the ids exact, and are used", async () => {
    // The table from text the model writes, labelled with its full-depth choices, as calibration does.
    const V = model.runner.config.vocabSize;
    const sequences = [];
    for (const p of ["And the LORD spake unto Moses", "Thus saith the LORD", "And he said unto them"]) {
      const { ids: answer } = await run(model.encodeRaw(p), 120, false);
      const ids = [...model.encodeRaw(p), ...answer];
      const logits = await model.decoder.allLogits(ids);
      sequences.push({ ids, next: ids.map((_, j) => argmax(logits.subarray(j * V, (j + 1) * V))) });
    }
    const table = DraftTable.build(sequences, V);
    expect(table.size).toBeGreaterThan(20);
    const accepted = { withTable: 0, without: 0 };
    for (const p of ["And the LORD said unto", "And Moses said", "Behold, the days come"]) {
      const ids = model.encodeRaw(p);
      const full = await run(ids, 96, false);
      for (const withTable of [true, false]) {
        model.decoder.reset();
        const it = model.generate({
          promptIds: ids,
          maxTokens: 96,
          sampling: GREEDY,
          ignoreEos: true,
          // No prompt lookup (no ending matches 1000 tokens): every draft comes from the table.
          speculation: { selfDraft: null, table: withTable ? table : null, minMatch: 1000 },
        });
        const fast: number[] = [];
        for (let r = await it.next(); ; r = await it.next()) {
          if (r.done) {
            accepted[withTable ? "withTable" : "without"] += r.value.speculation!.accepted;
            break;
          }
          fast.push(r.value.id);
        }
        expect(fast).toEqual(full.ids);
      }
    }
    expect(accepted.without).toBe(0);
    // How many drafts a round offers adapts to the measured cost of verification passes, so the
    // count moves with the machine's load (19-30 seen over these three answers); what must hold is
    // that the table's drafts are taken at all, and then in numbers.
    expect(accepted.withTable).toBeGreaterThan(10);
  }, 120_000);

  it("a token that exits early with deferred K/V leaves later tokens exactly as at full depth", async () => {
    const ids = model.encodeRaw(
      "And God said, Let there be light: and there was light. And God saw the light",
    );
    const L = model.runner.layers;
    const fullDepth: Float32Array[] = [];
    model.decoder.reset();
    await model.decoder.prefill(ids.slice(0, 4));
    for (let p = 4; p < ids.length; p++) fullDepth.push((await model.decoder.step(ids[p])).logits.slice());
    // Every other token exits after layer 3 (its output is then wrong, but not its K/V).
    let exitNext = true;
    const strategy: ExitStrategy = {
      kvMode: "deferred",
      afterLayer: async (l, hidden) => (l === 2 && exitNext ? model.runner.logits(hidden, 1) : null),
    };
    model.decoder.reset();
    await model.decoder.prefill(ids.slice(0, 4));
    for (let p = 4; p < ids.length; p++) {
      exitNext = p % 2 === 0;
      const r = await model.decoder.step(ids[p], strategy);
      if (r.exitLayer === L) expect(Array.from(r.logits)).toEqual(Array.from(fullDepth[p - 4]));
      else expect(r.exitLayer).toBe(3);
    }
    // The masked mode, for contrast, changes them.
    model.decoder.reset();
    await model.decoder.prefill(ids.slice(0, 4));
    let differs = false;
    for (let p = 4; p < ids.length; p++) {
      exitNext = p % 2 === 0;
      const r = await model.decoder.step(ids[p], { ...strategy, kvMode: "masked" });
      if (r.exitLayer === L && argmax(r.logits) !== argmax(fullDepth[p - 4])) differs = true;
      if (r.exitLayer === L && Math.abs(r.logits[0] - fullDepth[p - 4][0]) > 1e-3) differs = true;
    }
    expect(differs).toBe(true);
  }, 60_000);
});
