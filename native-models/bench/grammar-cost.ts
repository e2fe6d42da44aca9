// bench --grammar: what constrained decoding costs per token, against a decode step of the same
// model in the same process. Each acceptance schema is answered at temperature 0.9 with a few
// seeds; every mask's time is kept (XGrammar's bitmask, the UTF-8 state and the −∞ writes), and
// unconstrained runs of the same length give the decode step it is compared with.
import { LoadedModel } from "../engine/loaded-model.js";
import { median } from "./bench-text.js";
import { SCHEMAS } from "../test-support/json-schemas.js";
import type { SamplingParams } from "../runtime/sampler.js";

export interface GrammarCostResult {
  model: string;
  vocabSize: number;
  tokens: number;
  /** One-time: the vocabulary handed to XGrammar (per model) and each schema's grammar compiled. */
  setupMs: { vocabulary: number; compileMedian: number };
  maskMsPerToken: { median: number; mean: number; p95: number };
  /** A decode step without a constraint, same model, same process (median of runs). */
  decodeMsPerToken: number;
  /** Mean mask time over the decode step. */
  share: number;
  perSchema: Record<string, { tokens: number; maskMsMean: number; stopped: number; answers: number }>;
}

const SAMPLING: SamplingParams = {
  temperature: 0.9,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repetitionPenalty: 1.1,
};

export async function grammarCost(
  modelsDir: string,
  modelId: string,
  threads: number,
  o: { maxTokens: number; seeds: number },
): Promise<GrammarCostResult> {
  const model = await LoadedModel.load(modelId, { modelsDir, threads, contextLength: 512 });
  try {
    const promptIds = model.encodeChat([{ role: "user", content: "Answer in JSON." }]);
    let t = performance.now();
    (await model.constraint({ type: "json_object" })).dispose(); // builds the vocabulary once
    const vocabulary = performance.now() - t;
    const masks: number[] = [];
    const compiles: number[] = [];
    const decode: number[] = [];
    const perSchema: GrammarCostResult["perSchema"] = {};
    for (const [name, schema] of Object.entries(SCHEMAS)) {
      const row = { tokens: 0, maskMsMean: 0, stopped: 0, answers: 0 };
      const mine: number[] = [];
      for (let seed = 1; seed <= o.seeds; seed++) {
        model.decoder.reset();
        t = performance.now();
        const constraint = await model.constraint({ type: "json_schema", schema });
        if (seed === 1) compiles.push(performance.now() - t);
        const it = model.generate({
          promptIds,
          maxTokens: o.maxTokens,
          sampling: { ...SAMPLING, seed },
          constraint: async () => constraint,
          onMaskMs: (ms) => mine.push(ms),
        });
        let r = await it.next();
        let n = 0;
        while (!r.done) {
          n++;
          r = await it.next();
        }
        row.tokens += n;
        row.answers++;
        if (r.value.stopReason === "eos") row.stopped++;
        // The same number of unconstrained tokens: the decode step the mask is set against.
        model.decoder.reset();
        const plain = model.generate({
          promptIds,
          maxTokens: Math.max(n, 8),
          sampling: { ...SAMPLING, seed },
          ignoreEos: true,
        });
        let p = await plain.next();
        while (!p.done) p = await plain.next();
        if (p.value.decodeTokensPerSecond > 0) decode.push(1000 / p.value.decodeTokensPerSecond);
      }
      row.maskMsMean = mine.reduce((a, b) => a + b, 0) / Math.max(1, mine.length);
      perSchema[name] = row;
      masks.push(...mine);
    }
    const sorted = [...masks].sort((a, b) => a - b);
    const mean = masks.reduce((a, b) => a + b, 0) / Math.max(1, masks.length);
    const decodeMs = median(decode);
    return {
      model: modelId,
      vocabSize: model.runner.config.vocabSize,
      tokens: masks.length,
      setupMs: { vocabulary, compileMedian: median(compiles) },
      maskMsPerToken: {
        median: median(masks),
        mean,
        p95: sorted[Math.floor(0.95 * (sorted.length - 1))] ?? 0,
      },
      decodeMsPerToken: decodeMs,
      share: mean / decodeMs,
      perSchema,
    };
  } finally {
    await model.dispose();
  }
}
