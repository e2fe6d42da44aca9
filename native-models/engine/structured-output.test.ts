// Constrained decoding on a real model (kjv16): greedy decoding under a schema is deterministic
// and token for token the same with lossless speculative decoding (drafts the grammar forbids are
// rejected, accepted ones keep the text valid); sampled answers parse and validate.
import Ajv from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared, kjv16 } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { SCHEMAS } from "../test-support/json-schemas.js";
import { importModel } from "./import-model.js";
import { LoadedModel } from "./loaded-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import type { SamplingParams } from "../runtime/sampler.js";
import type { OutputConstraint } from "../../wire/structured.js";
import { drain } from "../test-support/drain.js";

const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };
const available = haveShared("models/kjv16/kjv16-q8_0.gguf") && loadNativeKernels().available;

describe.skipIf(!available)("kjv16: constrained decoding", () => {
  const tmp = makeTempDir("exitlane-kjv16-json-");
  let model: LoadedModel;
  const ajv = new Ajv({ strict: false });

  beforeAll(async () => {
    const r = await importModel(kjv16.ggufQ8, { modelsDir: tmp.dir, quant: "int8", threads: 2 });
    model = await LoadedModel.load(r.manifest.id, { modelsDir: tmp.dir, threads: 2, contextLength: 256 });
  }, 120_000);
  afterAll(async () => {
    await model?.dispose();
    tmp.cleanup();
  });

  async function answer(constraint: OutputConstraint, lossless: boolean, sampling = GREEDY) {
    const it = model.chat({
      messages: [{ role: "user", content: "Answer in JSON. Who went down into Egypt?" }],
      sampling,
      maxTokens: 160,
      knob: () => 0,
      lossless: lossless ? "always" : "never",
      constraint,
    });
    return drain(it);
  }

  it("greedy under a schema: the same tokens every run, and with lossless decoding", async () => {
    let drafted = 0;
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const c: OutputConstraint = { type: "json_schema", schema };
      const first = await answer(c, false);
      const again = await answer(c, false);
      const fast = await answer(c, true);
      expect(again.ids, name).toEqual(first.ids);
      expect(fast.ids, name).toEqual(first.ids);
      expect(fast.summary.text).toBe(first.summary.text);
      drafted += fast.summary.speculation!.proposed;
      if (first.summary.stopReason === "eos") {
        const validate = ajv.compile(schema);
        expect(validate(JSON.parse(first.summary.text)), `${name}: ${first.summary.text}`).toBe(true);
      }
      console.log(
        `[json] ${name} greedy (${first.summary.stopReason}, ${first.ids.length} tokens): ${first.summary.text}`,
      );
    }
    // The lossless runs did verify drafts (prompt lookup on the repetitive JSON), so the equality
    // above says something about rejected and accepted drafts under the grammar.
    expect(drafted).toBeGreaterThan(0);
  }, 120_000);

  it("a drafted end of text (copied from an earlier turn) ends a lossless answer cleanly", async () => {
    // The same question twice, the first answer and its end-of-text token between: the second
    // answer ends as the first did, so prompt lookup drafts what followed it, the end-of-text token
    // and the question again. Once that token is accepted the grammar has ended (XGrammar aborts
    // if asked for another mask), so the round must stop there.
    const schema = SCHEMAS.enums;
    const run = async (promptIds: number[], lossless: boolean) => {
      model.decoder.reset();
      const it = model.generate({
        promptIds,
        maxTokens: 60,
        sampling: GREEDY,
        constraint: () => model.constraint({ type: "json_schema", schema }),
        ...(lossless ? { speculation: model.speculationOptions() } : {}),
      });
      const ids: number[] = [];
      for (;;) {
        const r = await it.next();
        if (r.done) return { ids, summary: r.value };
        ids.push(r.value.id);
      }
    };
    const question = model.encodeChat([
      { role: "user", content: "Answer in JSON. Who went down into Egypt?" },
    ]);
    const first = await run(question, false);
    const eos = [...model.tokenizer.eos][0];
    const again = [...question, ...first.ids, eos, ...question.slice(1)];
    const full = await run(again, false);
    const fast = await run(again, true);
    // The scenario: the answer ends as the first did, so lookup drafts what followed that.
    expect(full.ids.slice(-4)).toEqual(first.ids.slice(-4));
    expect(fast.ids).toEqual(full.ids);
    expect(fast.summary.stopReason).toBe("eos");
    expect(fast.summary.speculation!.accepted).toBeGreaterThan(0);
  }, 60_000);

  it("sampled at temperature 0.9 with lossless decoding: answers that end parse and validate", async () => {
    const sampling: SamplingParams = {
      temperature: 0.9,
      topK: 40,
      topP: 0.95,
      minP: 0.05,
      repetitionPenalty: 1.1,
    };
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const validate = ajv.compile(schema);
      for (const seed of [1, 2]) {
        const r = await answer({ type: "json_schema", schema }, true, { ...sampling, seed });
        if (r.summary.stopReason !== "eos") continue;
        expect(validate(JSON.parse(r.summary.text)), `${name}: ${r.summary.text}`).toBe(true);
      }
    }
  }, 120_000);
});
