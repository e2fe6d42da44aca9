// Phi-3 / Phi-4-mini against llama.cpp (node-llama-cpp, CPU) on a synthetic `phi3` GGUF written as
// llama.cpp's converter writes one: fused attn_qkv and ffn_up, Phi-4-mini's head layout scaled down
// (3 query heads per key/value head, 0.75 of each head rotating), LongRoPE factors and attention
// factor, the Llama SentencePiece vocabulary. Two files differ only in the original context, so
// llama.cpp's 256-position context takes the short factors of one and the long factors of the other.
import { afterAll, describe, expect, it } from "vitest";
import { haveShared, vocabOnly } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { compareTop1, llamaCppLogits, llamaCppVariant } from "../test-support/llama-cpp-logits.js";
import { phi3Gguf, phi3HfFolder, tinyPhi3 } from "../test-support/phi3-writer.js";
import { vocabularyKeys } from "../test-support/synthetic-gguf.js";
import { rng } from "../test-support/ggml-blocks.js";
import { importModel } from "./import-model.js";
import { ModelRunner } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";

const tmp = makeTempDir("exitlane-phi3-");
afterAll(() => tmp.cleanup());

/** The context both engines run with (llama-cpp-logits.ts rounds up to 256 positions). */
const CONTEXT = 256;

async function ourLogits(input: string, ids: number[]): Promise<Float32Array[]> {
  const r = await importModel(input, { modelsDir: tmp.dir, quant: "f32", native: false });
  const runner = await ModelRunner.load(r.dir, {
    threads: 1,
    executionProvider: "cpu",
    contextLength: CONTEXT,
  });
  try {
    const all = await new Decoder(runner).allLogits(ids);
    const V = runner.config.vocabSize;
    return ids.map((_, i) => all.slice(i * V, (i + 1) * V));
  } finally {
    await runner.dispose();
  }
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((row, p) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[p][i])))));
  return worst;
}

describe.runIf(haveShared("models/vocab-only/ggml-vocab-llama-spm.gguf"))("phi3 against llama.cpp", () => {
  const r = rng(5);
  const ids = [1, ...Array.from({ length: 47 }, () => 3 + Math.floor(r() * 31990))];
  // Phi-4-mini: 24 query heads / 8 key/value heads of 128, 96 rotating; here 6 / 2 of 16, 12 rotating.
  const model = (originalContextLength: number) =>
    tinyPhi3({
      vocab: 32000,
      layers: 3,
      heads: 6,
      kvHeads: 2,
      headDim: 16,
      ff: 256,
      partialRotary: 0.75,
      longRope: { contextLength: 4096, originalContextLength },
      qkStd: 0.08,
    });

  const results = new Map<string, Float32Array[]>();
  for (const [label, originalContextLength] of [
    ["short", CONTEXT],
    ["long", CONTEXT / 2],
  ] as const) {
    it(`same top-1 as llama.cpp with LongRoPE's ${label} factors; the HF folder gives the GGUF's logits`, async () => {
      const m = model(originalContextLength);
      const file = tmp.write(
        `phi3-${label}.gguf`,
        phi3Gguf(m, { vocab: (await vocabularyKeys(vocabOnly.llamaSpm)).keys }),
      );
      const theirs = await llamaCppLogits(file, ids);
      const ours = await ourLogits(file, ids);
      const same = compareTop1(ours, theirs, 1e-3);
      console.log(
        `[phi3 ${label}] ${await llamaCppVariant()}\n  max |Δ log-softmax| ${same.maxAbsDelta.toExponential(2)}, ` +
          `top-1 compared at ${same.compared}/${ids.length} positions, ${same.mismatches.length} differ`,
      );
      expect(same.compared).toBeGreaterThan(ids.length * 0.75);
      expect(same.mismatches).toEqual([]);
      expect(same.maxAbsDelta).toBeLessThan(1e-3);

      const hf = await ourLogits(tmp.folder(`phi3-${label}-hf`, phi3HfFolder(m)), ids);
      expect(maxAbsDiff(hf, ours)).toBeLessThan(1e-4);

      results.set(label, theirs);
    }, 60_000);
  }

  it("the factor set matters at this scale: llama.cpp's short and long logits differ", () => {
    const [short, long] = [results.get("short"), results.get("long")];
    if (!short || !long) throw new Error("the llama.cpp runs above did not finish");
    expect(compareTop1(short, long, 1e-3).maxAbsDelta).toBeGreaterThan(1e-2);
  });
});
