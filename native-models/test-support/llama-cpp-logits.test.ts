// The llama.cpp reference on a real GGUF (stories260K, a Llama): our engine agrees with it, and the
// comparison notices a disagreement.
import { afterAll, describe, expect, it } from "vitest";
import { haveShared, stories } from "./shared-fixtures.js";
import { makeTempDir } from "./temp-files.js";
import { compareTop1, llamaCppLogits, llamaCppVariant } from "./llama-cpp-logits.js";
import { importModel } from "../engine/import-model.js";
import { ModelRunner } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";

const tmp = makeTempDir("exitlane-llamacpp-");
afterAll(() => tmp.cleanup());

describe.runIf(haveShared("models/stories260K"))("llama.cpp logits", () => {
  it("agree with our engine on stories260K and catch a swapped row", async () => {
    const ids = [1, 403, 407, 261, 378, 285, 1327 % 512, 266, 300, 45];
    const theirs = await llamaCppLogits(stories.gguf, ids);
    const r = await importModel(stories.gguf, { modelsDir: tmp.dir, quant: "f32", native: false });
    const runner = await ModelRunner.load(r.dir, { threads: 1, executionProvider: "cpu", contextLength: 64 });
    let ours: Float32Array[];
    try {
      const all = await new Decoder(runner).allLogits(ids);
      const V = runner.config.vocabSize;
      ours = ids.map((_, i) => all.slice(i * V, (i + 1) * V));
    } finally {
      await runner.dispose();
    }
    const same = compareTop1(ours, theirs, 1e-3);
    console.log(
      `${await llamaCppVariant()}\nstories260K max |Δ log-softmax| ${same.maxAbsDelta.toExponential(2)}`,
    );
    expect(same.compared).toBeGreaterThan(ids.length / 2);
    expect(same.mismatches).toEqual([]);
    expect(same.maxAbsDelta).toBeLessThan(1e-3);

    const shifted = compareTop1([...ours.slice(1), ours[0]], theirs, 1e-3);
    expect(shifted.mismatches.length).toBeGreaterThan(0);
    expect(shifted.maxAbsDelta).toBeGreaterThan(0.1);
  });
});
