// What the exit machinery costs per token at a model's real size, next to one decoder layer:
// the reduced-head features + predictor of one checked layer, and one full LM head (what a
// verification or a draft-layer candidate costs). Measured on the loaded model's own sessions.
import type { LoadedModel } from "../engine/loaded-model.js";
import { ReducedHead } from "../early-exit/features.js";
import { Predictor } from "../early-exit/predictor.js";
import { median } from "./bench-text.js";

export interface ExitOverhead {
  layerMs: number;
  headMs: number;
  predictorUs: number;
  predictorShareOfLayer: number;
  verificationShareOfLayer: number;
}

export async function measureExitOverhead(model: LoadedModel, reps = 30): Promise<ExitOverhead> {
  const r = model.runner;
  const d = r.config.hiddenSize;
  model.decoder.reset();
  await model.decoder.prefill([model.tokenizer.bos ?? 1, 100, 200, 300]);
  let h = r.embed([400]);
  const layerTimes: number[] = [];
  const headTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    h = await r.layer(i % r.layers, h, [4 + Math.floor(i / r.layers)]);
    layerTimes.push(performance.now() - t);
    const t2 = performance.now();
    await r.logits(h, 1);
    headTimes.push(performance.now() - t2);
  }
  model.decoder.reset();
  // A predictor of the calibrated size on real hidden states; weights do not change its cost.
  const { rows, finalNorm } = r.headRows();
  const head = new ReducedHead(rows, finalNorm, r.config.rmsNormEps, 4);
  head.setCandidates([1, 2, 3, 4]);
  const predictor = new Predictor({ inputs: 12, hidden: 32, w1: new Array(12 * 32).fill(0.01), b1: new Array(32).fill(0), w2: new Array(32).fill(0.01), b2: 0, mean: new Array(12).fill(0), std: new Array(12).fill(1) });
  const n = 2000;
  const t = performance.now();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += predictor.predict(head.compute(h.subarray(0, d)));
  const predictorUs = ((performance.now() - t) / n) * 1000 + sink * 0;
  const layerMs = median(layerTimes);
  const headMs = median(headTimes);
  return {
    layerMs: round(layerMs),
    headMs: round(headMs),
    predictorUs: round(predictorUs),
    predictorShareOfLayer: round(predictorUs / 1000 / layerMs),
    verificationShareOfLayer: round(headMs / layerMs),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
