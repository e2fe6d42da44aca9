// Sparse activation calibration (CATS): the model writes a little text through its sparse-form
// layers at full density while we sample |SiLU(gate)| per layer; each layer's threshold for a
// sparsity level s is the s-quantile of those magnitudes. The knob maps onto a sparsity level
// (runtime/knob.ts).
import type { ModelTarget } from "../runtime/model-target.js";
import { CALIBRATION_PROMPTS } from "../early-exit/calibration-text.js";
import { throwIfAborted } from "../formats/cancel.js";
import { argmax, seededRandom } from "../runtime/sampler.js";

export const SPARSITY_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * agreement: teacher-forced agreement with the dense FFNs at each level, measured on the model's
 * own text; speedup: decode speed against dense, measured in the same run (null: not measured).
 */
export type { SparsityTable } from "../runtime/native-layers.js";
import type { SparsityTable } from "../runtime/native-layers.js";

/** Levels whose agreement and speed calibration measures (the rest keep their thresholds for explicit use). */
export const MEASURED_LEVELS = [0.3, 0.5, 0.7];

export async function calibrateSparsity(
  model: ModelTarget,
  o: {
    prompts?: string[];
    tokensPerPrompt?: number;
    samplesPerRow?: number;
    /** Also measure agreement per level (needed for the knob mapping; benchmarks skip it). */
    measure?: boolean;
    signal?: AbortSignal;
    onProgress?: (f: number) => void;
  } = {},
): Promise<SparsityTable> {
  const sparse = model.runner.native;
  if (!sparse) throw new Error("the model is not loaded in sparse form");
  const prompts = o.prompts ?? CALIBRATION_PROMPTS.slice(0, 4);
  const perRow = o.samplesPerRow ?? 64;
  const samples: number[][] = Array.from({ length: sparse.layers }, () => []);
  const rand = seededRandom(12345);
  sparse.setSparsity(0);
  sparse.recorder = (layer, acts) => {
    for (let i = 0; i < perRow; i++) samples[layer].push(Math.abs(acts[Math.floor(rand() * acts.length)]));
  };
  try {
    for (let i = 0; i < prompts.length; i++) {
      throwIfAborted(o.signal);
      o.onProgress?.(i / prompts.length);
      model.decoder.reset();
      const it = model.generate({
        promptIds: model.encodeRaw(prompts[i]),
        maxTokens: o.tokensPerPrompt ?? 32,
        sampling: {
          temperature: 0.8,
          topK: 40,
          topP: 0.95,
          minP: 0.05,
          repetitionPenalty: 1.1,
          seed: 77 + i,
        },
      });
      for await (const _ of it) void _;
    }
  } finally {
    sparse.recorder = null;
    model.decoder.reset();
  }
  const byLayer = samples.map((s) => {
    const sorted = Float64Array.from(s).sort();
    return SPARSITY_LEVELS.map(
      (level) => sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))] ?? 0,
    );
  });
  const table: SparsityTable = { levels: SPARSITY_LEVELS, byLayer };
  sparse.setTable(table);
  if (o.measure !== false)
    Object.assign(table, await measureLevels(model, prompts.slice(0, 2), o.tokensPerPrompt ?? 48, o.signal));
  o.onProgress?.(1);
  return table;
}

/** Teacher-forced argmax agreement with the dense FFNs and decode speed against them, per measured level, on greedy text. */
async function measureLevels(
  model: ModelTarget,
  prompts: string[],
  tokens: number,
  signal?: AbortSignal,
): Promise<{ agreement: (number | null)[]; speedup: (number | null)[] }> {
  const sparse = model.runner.native!;
  const texts: number[][] = [];
  sparse.setSparsity(0);
  for (const p of prompts) {
    model.decoder.reset();
    const ids = model.encodeRaw(p);
    for await (const t of model.generate({
      promptIds: ids,
      maxTokens: tokens,
      sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 },
    }))
      ids.push(t.id);
    texts.push(ids);
  }
  const argmaxAll = async () => {
    const out: number[] = [];
    const t = performance.now();
    for (const ids of texts) {
      model.decoder.reset();
      for (let p = 0; p < ids.length - 1; p++) out.push(argmax((await model.decoder.step(ids[p])).logits));
    }
    return { out, ms: performance.now() - t };
  };
  const dense = await argmaxAll();
  const agreement: (number | null)[] = SPARSITY_LEVELS.map(() => null);
  const speedup: (number | null)[] = SPARSITY_LEVELS.map(() => null);
  for (const level of MEASURED_LEVELS) {
    throwIfAborted(signal);
    sparse.setSparsity(level);
    const got = await argmaxAll();
    const i = SPARSITY_LEVELS.indexOf(level);
    agreement[i] =
      Math.round((got.out.filter((t, j) => t === dense.out[j]).length / dense.out.length) * 10000) / 10000;
    speedup[i] = Math.round((dense.ms / got.ms) * 1000) / 1000;
  }
  sparse.setSparsity(0);
  model.decoder.reset();
  return { agreement, speedup };
}
