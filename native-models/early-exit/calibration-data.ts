// Calibration data, written by the model itself: no corpus ships with the app, and the model's own
// text is what it will be asked to continue. Continuations are sampled at temperature 1 with no
// truncation, because such text is as hard for the model as real text is (kjv16: 3.37 nats/token
// on its own sampled text, 3.22 on held-out chapters, against 1.99 on greedy and temperature-0.8
// text, which made every exit look safer than it was); a few greedy continuations are kept for
// lossless drafting, which sees greedy text in use.
import { throwIfAborted } from "../formats/cancel.js";
import type { ModelTarget } from "../runtime/model-target.js";
import type { SamplingParams } from "../runtime/sampler.js";
import { CALIBRATION_PROMPTS } from "./calibration-text.js";

export const SAMPLED: SamplingParams = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };
export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

export interface CalibrationText {
  /** Sampled continuations that train heads and predictors. */
  train: number[][];
  /** Sampled continuations of other prompts: the curve is measured on them. */
  heldOut: number[][];
  /** Greedy continuations of held-out prompts (lossless drafting statistics). */
  greedy: number[][];
}

export interface TextPlan {
  prompts: string[];
  tokensPerPrompt: number;
  greedyTokens: number;
}

/**
 * How much text fits the time budget: calibration should take seconds on small models and stay
 * within minutes on large ones, and generation is most of its cost.
 */
export function planText(
  secondsPerToken: number,
  maxPositions: number,
  o: { prompts?: string[]; tokensPerPrompt?: number; seconds?: number } = {},
): TextPlan {
  const prompts = o.prompts ?? CALIBRATION_PROMPTS;
  const affordable = Math.floor((o.seconds ?? 20) / Math.max(1e-4, secondsPerToken) / (prompts.length * 1.2));
  // Long continuations where time allows (the model's later positions behave differently from its
  // first ones), within the context.
  const tokensPerPrompt = Math.max(12, Math.min(o.tokensPerPrompt ?? 1024, affordable, maxPositions - 16));
  return { prompts, tokensPerPrompt, greedyTokens: Math.max(12, Math.min(96, tokensPerPrompt)) };
}

export async function writeCalibrationText(
  model: ModelTarget,
  plan: TextPlan,
  o: { extraText?: string; signal?: AbortSignal; onProgress?: (f: number) => void },
): Promise<CalibrationText> {
  const text: CalibrationText = { train: [], heldOut: [], greedy: [] };
  const maxPositions = model.runner.maxPositions;
  const continue_ = async (promptIds: number[], maxTokens: number, sampling: SamplingParams) => {
    const ids = [...promptIds];
    for await (const t of model.generate({ promptIds, maxTokens, sampling, ignoreEos: true })) ids.push(t.id);
    return ids.slice(0, maxPositions);
  };
  const n = plan.prompts.length;
  for (let i = 0; i < n; i++) {
    throwIfAborted(o.signal);
    o.onProgress?.(i / n);
    const promptIds = model.encodeRaw(plan.prompts[i]);
    // Every fourth prompt is held out; out-of-fold estimates split the rest by prompt too.
    const heldOut = i % 4 === 3;
    const sampled = await continue_(promptIds, plan.tokensPerPrompt, { ...SAMPLED, seed: 1000 + i });
    (heldOut ? text.heldOut : text.train).push(sampled);
    if (heldOut) text.greedy.push(await continue_(promptIds, plan.greedyTokens, GREEDY));
  }
  if (o.extraText) {
    const extra = model.encodeRaw(o.extraText);
    const len = Math.min(maxPositions, 2 * plan.tokensPerPrompt);
    for (let s = 0; s < extra.length; s += len) text.train.push(extra.slice(s, s + len));
  }
  model.decoder.reset();
  return text;
}

/** Every layer's output for every position of one sequence, teacher-forced at full depth. */
export interface LayerStates {
  ids: number[];
  /** [positions, layers, d] */
  states: Float32Array;
  layers: number;
  d: number;
}

export function stateAt(s: LayerStates, pos: number, layer: number): Float32Array {
  const at = (pos * s.layers + layer - 1) * s.d;
  return s.states.subarray(at, at + s.d);
}

/**
 * Runs as decode rows (natively where the kernels are built), so the states and the tokens they
 * lead to are bit for bit what decoding computes: a prefill chunk on onnxruntime rounds slightly
 * differently, which moved ~1% of near-tie tokens between calibration and use.
 */
export async function collectLayerStates(
  model: ModelTarget,
  ids: number[],
  chunk = 64,
): Promise<LayerStates> {
  const r = model.runner;
  const L = r.layers;
  const d = r.config.hiddenSize;
  const states = new Float32Array(ids.length * L * d);
  model.decoder.reset();
  for (let start = 0; start < ids.length; start += chunk) {
    const part = ids.slice(start, start + chunk);
    const positions = part.map((_, i) => start + i);
    let h = r.embed(part);
    for (let l = 0; l < L; l++) {
      h = await r.layer(l, h, positions, true);
      for (let i = 0; i < part.length; i++)
        states.set(h.subarray(i * d, (i + 1) * d), ((start + i) * L + l) * d);
    }
  }
  model.decoder.reset();
  return { ids, states, layers: L, d };
}
