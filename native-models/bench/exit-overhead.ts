// What the exit machinery costs per token at a model's real size, next to one decoder layer: one
// exit check (the layer's exit head and the shortlist head, as the controller runs them) and one
// full LM head (what a lossless self-draft costs). Measured on the loaded model itself.
import type { LoadedModel } from "../engine/loaded-model.js";
import { ExitHead } from "../early-exit/exit-head.js";
import { Shortlist } from "../early-exit/exit-controller.js";
import { median } from "./bench-text.js";

export interface ExitOverhead {
  layerMs: number;
  headMs: number;
  checkUs: number;
  /** One exit check as a share of one decode layer. */
  checkShareOfLayer: number;
  /** A full LM head (self-draft, or a full-vocabulary verification) as a share of one layer. */
  headShareOfLayer: number;
}

export async function measureExitOverhead(model: LoadedModel, reps = 40): Promise<ExitOverhead> {
  const r = model.runner;
  const d = r.config.hiddenSize;
  model.decoder.reset();
  await model.decoder.prefill([model.tokenizer.bos ?? 1, 100, 200, 300]);
  let h = r.embed([400]);
  const layerTimes: number[] = [];
  const headTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    h = await r.layer(i % r.layers, h, [4 + Math.floor(i / r.layers)], true);
    layerTimes.push(performance.now() - t);
    const t2 = performance.now();
    await r.logits(h, 1);
    headTimes.push(performance.now() - t2);
  }
  model.decoder.reset();
  // A check of the calibrated kind on a real hidden state: weights do not change its cost, sizes do.
  const shortlistSize = model.exit?.policy.shortlist.length ?? Math.min(1024, r.config.vocabSize);
  const map = model.exit
    ? null
    : new ExitHead(
        {
          kind: d > 512 ? "diag" : "full",
          d,
          inputs: d,
          w: new Float32Array(d > 512 ? d : d * d).fill(0.01),
          b: new Float32Array(d),
        },
        r.threads,
      );
  const shortlist = new Shortlist(
    r,
    Array.from({ length: shortlistSize }, (_, i) => i),
  );
  const n = 500;
  const t = performance.now();
  for (let i = 0; i < n; i++)
    shortlist.evaluate(
      model.exit ? model.exit.mapped(h, model.exit.policy.checkLayers[0] ?? 1) : map!.apply(h),
    );
  const checkUs = ((performance.now() - t) / n) * 1000;
  shortlist.close();
  map?.close();
  const layerMs = median(layerTimes);
  const headMs = median(headTimes);
  return {
    layerMs: round(layerMs),
    headMs: round(headMs),
    checkUs: round(checkUs),
    checkShareOfLayer: round(checkUs / 1000 / layerMs),
    headShareOfLayer: round(headMs / layerMs),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
