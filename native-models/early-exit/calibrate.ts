// Calibration of early exit and lossless drafting for one model, from text the model writes
// itself (calibration-data.ts):
//   1. every layer's output for every position, teacher-forced at full depth;
//   2. exit heads (a tuned lens per layer, exit-head.ts) fitted in closed form, with out-of-fold
//      predictions so that every statistic below is what the heads do on text they were not
//      fitted on, the shortlist of tokens the exit rule scores, and the model's habits (the
//      tokens it consistently chose after short contexts, runtime/draft-table.ts);
//   3. the layers worth checking and per-knob exit thresholds, chosen by simulating the exit rule
//      (exit-controller.ts) on those predictions (thresholds.ts);
//   4. on held-out text, with the real machinery and timed against full depth: the K/V handling of
//      skipped layers, and the knob's curve (agreement, mean executed layers, decode speedup);
//   5. whether the habits and self-drafting pay in lossless decoding here, measured the same way.
import { argmax } from "../runtime/sampler.js";
import { ExitController, Shortlist } from "./exit-controller.js";
import {
  addEquations,
  ExitHead,
  FULL_MAP_MAX_INPUTS,
  fitAffine,
  normalEquations,
  rmsNormalised,
  solveAffine,
  type AffineMap,
  type NormalEquations,
} from "./exit-head.js";
import { POLICY_VERSION, packMaps, type ExitPolicy } from "./policy.js";
import { KNOB_GRID } from "../runtime/knob.js";
import type { ModelTarget } from "../runtime/model-target.js";
import { optimiseThresholds, type LayerDecisions } from "./thresholds.js";
import {
  collectLayerStates,
  GREEDY,
  planText,
  stateAt,
  writeCalibrationText,
  type LayerStates,
} from "./calibration-data.js";
import type { SelfDraft } from "../runtime/speculative.js";
import { DraftTable } from "../runtime/draft-table.js";
import { NO_TOKENS } from "../runtime/generate.js";
import { throwIfAborted } from "../formats/cancel.js";

export interface CalibrateOptions {
  tokensPerPrompt?: number;
  prompts?: string[];
  /** Extra calibration text from the user (tokenized and added as training sequences). */
  extraText?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number, detail: string) => void;
  /** Knob values whose curve point is measured. */
  curveKnobs?: number[];
  /** Seconds of text generation to aim for (the bulk of calibration time). */
  textSeconds?: number;
}

export interface CurvePoint {
  knob: number;
  agreement: number;
  meanExitLayer: number;
  speedup: number;
}

export interface CalibrationResult {
  policy: ExitPolicy;
  /** The maps file named by policy.maps.file. */
  maps: Uint8Array;
  curve: CurvePoint[];
  /** Lossless decoding measured on held-out prompts: greedy tokens/s and the ratio to full depth. */
  lossless: { speedup: number; selfDraft: ExitPolicy["lossless"]["selfDraft"] };
  seconds: number;
}

export const MAPS_FILE = "maps.bin";

interface Position {
  seq: number;
  pos: number;
  /** The full model's token. */
  final: number;
  /** Exit rule after each layer (index layer-1), out of fold: the shortlist's argmax and top probability. */
  token: Int32Array;
  conf: Float32Array;
}

/** Most shortlisted tokens (its head then costs about a twentieth of a layer at kjv16's width). */
const SHORTLIST_MAX = 1024;
/** The shortlist covers at least this share of the final tokens in calibration text when it can. */
const SHORTLIST_COVERAGE = 0.995;

export async function calibrate(model: ModelTarget, o: CalibrateOptions = {}): Promise<CalibrationResult> {
  const started = performance.now();
  const r = model.runner;
  const L = r.layers;
  const d = r.config.hiddenSize;
  const progress = o.onProgress ?? (() => {});
  const check = () => throwIfAborted(o.signal);
  // Plain JS work yields between steps, so the host reads its messages (a cancel) and acts on them.
  const breathe = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    check();
  };

  // 1. Text, sized by this machine's speed on this model, and every layer's output on it.
  const costs = await measureCosts(model);
  const plan = planText(costs.stepMs / 1000, r.maxPositions, {
    prompts: o.prompts,
    tokensPerPrompt: o.tokensPerPrompt,
    seconds: o.textSeconds,
  });
  const text = await writeCalibrationText(model, plan, {
    extraText: o.extraText,
    signal: o.signal,
    onProgress: (f) => progress(0.4 * f, "writing calibration text"),
  });
  check();
  progress(0.4, "reading every layer");
  const states: LayerStates[] = [];
  for (const ids of text.train) {
    states.push(await collectLayerStates(model, ids));
    await breathe();
  }
  const foldOf = (seq: number) => seq % 2;
  const all = states.flatMap((s, seq) => s.ids.map((_, pos) => ({ seq, pos })));

  // 2. The shortlist: the full model's most frequent tokens on this text.
  const finals = await argmaxRows(
    model,
    all.map((p) => stateAt(states[p.seq], p.pos, L)),
  );
  const counts = new Map<number, number>();
  for (const t of finals) counts.set(t, (counts.get(t) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  let covered = 0;
  const shortlistIds: number[] = [];
  for (const [id, c] of ranked) {
    if (shortlistIds.length >= SHORTLIST_MAX || covered >= SHORTLIST_COVERAGE * finals.length) break;
    shortlistIds.push(id);
    covered += c;
  }
  // The model's habits for lossless drafting: what it chose after each context of this text.
  let at = 0;
  const habits = DraftTable.build(
    states.map((s) => ({ ids: s.ids, next: finals.slice(at, (at += s.ids.length)) })),
    r.config.vocabSize,
  );
  const shortlist = new Shortlist(r, shortlistIds);
  const positions: Position[] = all.map((p, i) => ({
    ...p,
    final: finals[i],
    token: new Int32Array(L),
    conf: new Float32Array(L),
  }));
  // The exit rule after `layer` for each position (through `head` when given), 64 rows a call.
  const evaluate = (list: Position[], layer: number, head?: ExitHead) => {
    const x = new Float32Array(64 * d);
    for (let i = 0; i < list.length; i += 64) {
      const batch = list.slice(i, i + 64);
      batch.forEach((p, j) => x.set(stateAt(states[p.seq], p.pos, layer), j * d));
      const rows = x.subarray(0, batch.length * d);
      const e = shortlist.evaluateRows(head ? head.applyRows(rows, batch.length) : rows, batch.length);
      batch.forEach((p, j) => {
        p.token[layer - 1] = e.top[j];
        p.conf[layer - 1] = e.confidence[j];
      });
    }
  };

  // Exit heads: out-of-fold statistics per layer, then the map fitted on everything.
  const exitHeads: Record<string, AffineMap> = {};
  const diag = d > FULL_MAP_MAX_INPUTS;
  const targets = all.map((p) => rmsNormalised(stateAt(states[p.seq], p.pos, L)));
  const folds = [0, 1].map((f) => all.flatMap((p, i) => (foldOf(p.seq) === f ? [i] : [])));
  const rawAgreement: number[] = [];
  for (let l = 1; l < L; l++) {
    check();
    progress(0.45 + (0.2 * l) / L, "fitting exit heads");
    const inputs = all.map((p) => stateAt(states[p.seq], p.pos, l));
    evaluate(positions, l);
    rawAgreement.push(positions.filter((p) => p.token[l - 1] === p.final).length / positions.length);
    // Each fold's head is fitted on the other fold; the sums of both folds give the final head.
    const pick = <T>(xs: T[], idx: number[]) => idx.map((i) => xs[i]);
    const equations = diag
      ? null
      : folds.map((idx) => (idx.length ? normalEquations(pick(inputs, idx), pick(targets, idx)) : null));
    for (const f of [0, 1]) {
      const fitOn = folds[1 - f];
      if (!fitOn.length || !folds[f].length) continue;
      const map = equations
        ? solveAffine(equations[1 - f]!)
        : fitAffine(pick(inputs, fitOn), pick(targets, fitOn), { diag });
      const head = new ExitHead(map, 1);
      evaluate(pick(positions, folds[f]), l, head);
      head.close();
      await breathe();
    }
    const present = (equations ?? []).filter((e): e is NormalEquations => e !== null);
    exitHeads[String(l)] = present.length
      ? solveAffine(present.reduce(addEquations))
      : fitAffine(inputs, targets, { diag });
  }
  shortlist.close();
  const headAgreement = Array.from(
    { length: L - 1 },
    (_, i) => positions.filter((p) => p.token[i] === p.final).length / positions.length,
  );

  // 3. Which layers to check, and their thresholds per knob: a check costs a little at every token
  // that reaches it, so a layer stays only while its exits save more than its checks cost.
  progress(0.66, "choosing exit thresholds");
  const checkCost = costs.checkMs / costs.layerMs;
  const decisionsFor = (layers: number[]): LayerDecisions[] =>
    layers.map((l) => ({
      layer: l,
      scores: Float32Array.from(positions, (p) => p.conf[l - 1]),
      verified: new Uint8Array(positions.length).fill(1),
      correct: Uint8Array.from(positions, (p) => (p.token[l - 1] === p.final ? 1 : 0)),
    }));
  let layers = Array.from({ length: L - 1 }, (_, i) => i + 1).filter((l) => headAgreement[l - 1] >= 0.05);
  let table = optimiseThresholds(decisionsFor(layers), L, KNOB_GRID);
  for (let round = 0; round < 4; round++) {
    const value = layerValues(positions, layers, table, L, checkCost);
    if (process.env.EXITLANE_DEBUG_CAL)
      console.error(
        "layers",
        layers,
        "values",
        [...value].map(([l, v]) => `${l}:${(v / positions.length).toFixed(3)}`).join(" "),
        "t@1",
        layers.map((l) => table.get(l)!.at(-1)!.toFixed(3)).join(" "),
      );
    const keep = layers.filter((l) => value.get(l)! > 0);
    if (keep.length === layers.length || !keep.length) break;
    layers = keep;
    table = optimiseThresholds(decisionsFor(layers), L, KNOB_GRID);
  }
  const minConfidence: Record<string, number[]> = {};
  for (const [l, row] of table) if (row.some((t) => t <= 1)) minConfidence[String(l)] = row;

  const packed = packMaps(Object.fromEntries(Object.entries(exitHeads).map(([l, m]) => [`exit.${l}`, m])));
  const policy: ExitPolicy = {
    version: POLICY_VERSION,
    shortlist: shortlistIds,
    checkLayers: Object.keys(minConfidence)
      .map(Number)
      .sort((a, b) => a - b),
    minConfidence,
    kvMode: "deferred",
    maps: {
      file: MAPS_FILE,
      exitHeads: Object.fromEntries(Object.keys(exitHeads).map((l) => [l, packed.stored[`exit.${l}`]])),
    },
    lossless: { selfDraft: null },
    stats: {
      positions: positions.length,
      trainSequences: text.train.length,
      heldOutSequences: text.heldOut.length,
      tokensPerPrompt: plan.tokensPerPrompt,
      shortlist: { size: shortlistIds.length, coverage: round4(covered / finals.length) },
      logitLensAgreement: rawAgreement.map(round4),
      exitHeadAgreement: headAgreement.map(round4),
      exitHeadKind: diag ? "diag" : "full",
      costs: {
        stepMs: round4(costs.stepMs),
        layerMs: round4(costs.layerMs),
        headMs: round4(costs.headMs),
        checkMs: round4(costs.checkMs),
      },
      checkCostInLayers: round4(checkCost),
    },
  };

  // 4. K/V of skipped layers, then the knob's curve, on held-out text with the real machinery.
  progress(0.7, "measuring K/V handling");
  const kvModes = await measureSideBySide(
    model,
    packed.bytes,
    text.heldOut,
    (["masked", "deferred"] as const).map((kvMode) => ({ policy: { ...policy, kvMode }, knob: 0.5 })),
    check,
  );
  const [m, df] = kvModes;
  // Exact K/V unless leaving them out is as accurate and faster.
  policy.kvMode = m.agreement >= df.agreement - 0.002 && m.speedup > df.speedup ? "masked" : "deferred";
  policy.stats.kvModes = { masked: m, deferred: df };

  progress(0.75, "measuring the knob's curve");
  const knobs = o.curveKnobs ?? [0.2, 0.4, 0.6, 0.8, 1.0];
  const measured = await measureSideBySide(
    model,
    packed.bytes,
    text.heldOut,
    knobs.map((knob) => ({ policy, knob })),
    check,
    (f) => progress(0.75 + 0.15 * f, "measuring the knob's curve"),
  );
  const curve: CurvePoint[] = knobs.map((knob, i) => ({ knob, ...measured[i] }));

  // 5. Lossless: do the model's habits and self-drafting beat prompt lookup alone here? Measured,
  // greedy, held-out prompts.
  progress(0.9, "measuring lossless drafting");
  const lossless = await chooseDrafts(
    model,
    policy,
    packed.bytes,
    habits,
    headAgreement,
    text.greedy,
    plan.greedyTokens,
    costs,
    check,
  );
  policy.lossless = {
    selfDraft: lossless.selfDraft,
    ...(lossless.table ? { table: habits.toData() } : {}),
  };
  policy.stats.lossless = lossless.measured;
  progress(1, "early exit calibrated");
  model.decoder.reset();
  return {
    policy,
    maps: packed.bytes,
    curve,
    lossless: { speedup: lossless.speedup, selfDraft: lossless.selfDraft },
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Per checked layer, at the fastest knob (a layer no use there is no use anywhere): layers its exits save, minus the cost of checking every token
 * that reaches it (in layers), per position.
 */
function layerValues(
  positions: Position[],
  layers: number[],
  table: Map<number, number[]>,
  L: number,
  checkCost: number,
): Map<number, number> {
  const at = KNOB_GRID.length - 1;
  const value = new Map(layers.map((l) => [l, 0]));
  for (const p of positions) {
    for (const l of layers) {
      value.set(l, value.get(l)! - checkCost);
      if (p.conf[l - 1] >= table.get(l)![at]) {
        value.set(l, value.get(l)! + (L - l));
        break;
      }
    }
  }
  return value;
}

interface Costs {
  stepMs: number;
  layerMs: number;
  headMs: number;
  /** One exit check: an exit head and the shortlist head. */
  checkMs: number;
}

/** A full-depth decode step, one decode layer and one LM head on this machine (medians). */
async function measureCosts(model: ModelTarget): Promise<Costs> {
  const r = model.runner;
  model.decoder.reset();
  const probe = model.encodeRaw("In the beginning");
  // Calibration writes text: a tokenizer that encodes none cannot be calibrated (nor chat).
  if (probe.length === 0) throw new Error(NO_TOKENS);
  await model.decoder.prefill(probe);
  const steps: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await model.decoder.step(100 + i);
    steps.push(performance.now() - t);
  }
  const heads: number[] = [];
  const h = r.embed([5]);
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await r.logits(h, 1);
    heads.push(performance.now() - t);
  }
  model.decoder.reset();
  const stepMs = median(steps);
  const headMs = median(heads);
  const layerMs = Math.max(1e-3, (stepMs - headMs) / r.layers);
  // One check at its largest: a full exit head and a full shortlist (weights do not change the cost).
  const d = r.config.hiddenSize;
  const map = new ExitHead(
    {
      kind: d > FULL_MAP_MAX_INPUTS ? "diag" : "full",
      d,
      inputs: d,
      w: new Float32Array(d > FULL_MAP_MAX_INPUTS ? d : d * d).fill(0.01),
      b: new Float32Array(d),
    },
    r.threads,
  );
  const shortlist = new Shortlist(
    r,
    Array.from({ length: Math.min(SHORTLIST_MAX, r.config.vocabSize) }, (_, i) => i),
  );
  const checks: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    shortlist.evaluate(map.apply(h));
    if (i >= 20) checks.push(performance.now() - t);
  }
  map.close();
  shortlist.close();
  return { stepMs, headMs, layerMs, checkMs: median(checks) };
}

interface Measured {
  agreement: number;
  meanExitLayer: number;
  speedup: number;
}

/** The full model's token for each row of final-layer states (batched through the LM head). */
async function argmaxRows(model: ModelTarget, rows: Float32Array[]): Promise<number[]> {
  const d = model.runner.config.hiddenSize;
  const V = model.runner.config.vocabSize;
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += 64) {
    const batch = rows.slice(i, i + 64);
    const x = new Float32Array(batch.length * d);
    batch.forEach((row, j) => x.set(row, j * d));
    const logits = await model.runner.logits(x, batch.length);
    for (let j = 0; j < batch.length; j++) out.push(argmax(logits, j * V, V));
  }
  return out;
}

/**
 * Teacher-forced agreement with full depth, mean executed layers and decode speedup of each
 * setting on held-out texts. Every text runs at full depth and then in each setting, one right
 * after the other: on a shared, noisy machine speed drifts by tens of percent over seconds, and
 * timing each setting next to its own full-depth pass keeps that drift out of the ratios.
 */
async function measureSideBySide(
  model: ModelTarget,
  maps: Uint8Array,
  texts: number[][],
  settings: { policy: ExitPolicy; knob: number }[],
  check: () => void,
  onProgress?: (fraction: number) => void,
): Promise<Measured[]> {
  const controllers = settings.map((s) => ExitController.fromBytes(model.runner, s.policy, maps));
  const totals = settings.map(() => ({ same: 0, layers: 0, ms: 0 }));
  let fullMs = 0;
  let steps = 0;
  try {
    for (const [t, ids] of texts.entries()) {
      check();
      model.decoder.reset();
      const reference: number[] = [];
      let start = performance.now();
      for (let p = 0; p < ids.length - 1; p++)
        reference.push(argmax((await model.decoder.step(ids[p])).logits));
      fullMs += performance.now() - start;
      steps += ids.length - 1;
      for (const [i, s] of settings.entries()) {
        model.decoder.reset();
        controllers[i].reset();
        const strategy = controllers[i].strategyFor(s.knob);
        start = performance.now();
        for (let p = 0; p < ids.length - 1; p++) {
          const r = await model.decoder.step(ids[p], strategy);
          totals[i].layers += r.exitLayer;
          if (argmax(r.logits) === reference[p]) totals[i].same++;
        }
        totals[i].ms += performance.now() - start;
      }
      onProgress?.((t + 1) / texts.length);
    }
  } finally {
    for (const c of controllers) c.close();
    model.decoder.reset();
  }
  return totals.map((x) => ({
    agreement: round4(x.same / steps),
    meanExitLayer: round4(x.layers / steps),
    speedup: round4(fullMs / x.ms),
  }));
}

/**
 * Lossless decoding with prompt lookup only, with the model's habits added, and with
 * self-drafting (beside both) at the two most promising depths and two confidence floors, each
 * timed against full depth on the greedy held-out prompts (every setting right after the
 * full-depth run of the same prompt, as in measureSideBySide). The habits are kept unless they
 * measured slower; self-drafting only where it measured faster.
 */
async function chooseDrafts(
  model: ModelTarget,
  policy: ExitPolicy,
  maps: Uint8Array,
  habits: DraftTable,
  agreement: number[],
  greedy: number[][],
  tokens: number,
  costs: Costs,
  check: () => void,
): Promise<{
  selfDraft: ExitPolicy["lossless"]["selfDraft"];
  table: boolean;
  speedup: number;
  measured: Record<string, number>;
}> {
  const L = model.runner.layers;
  const prompts = greedy.map((ids) => ids.slice(0, Math.min(8, Math.max(1, ids.length - tokens))));
  const measured: Record<string, number> = {};
  if (!model.runner.native?.decodesNatively || !prompts.length)
    return { selfDraft: null, table: false, speedup: 1, measured };
  // Depths where a draft is cheap relative to what it saves: exit-head agreement × layers skipped.
  const depths = Object.keys(policy.maps.exitHeads)
    .map(Number)
    .filter((l) => l < L - 1 && costs.layerMs * l + costs.checkMs < 0.5 * costs.stepMs)
    .sort((a, b) => agreement[b - 1] * (L - b) - agreement[a - 1] * (L - a))
    .slice(0, 2);
  const controller = ExitController.fromBytes(model.runner, policy, maps);
  // selfDraft undefined: no speculation (full depth); null: prompt lookup (and the habits) only.
  const settings: {
    name: string;
    selfDraft: ExitPolicy["lossless"]["selfDraft"] | undefined;
    table: boolean;
  }[] = [
    { name: "fullDepth", selfDraft: undefined, table: false },
    { name: "lookup", selfDraft: null, table: false },
    { name: "habits", selfDraft: null, table: true },
    ...depths.flatMap((layer) =>
      [0.7, 0.9].map((minConfidence) => ({
        name: `selfDraft.${layer}.${minConfidence}`,
        selfDraft: { layer, minConfidence },
        table: true,
      })),
    ),
  ];
  const ms = settings.map(() => 0);
  try {
    for (const promptIds of prompts) {
      for (const [i, { selfDraft, table }] of settings.entries()) {
        check();
        model.decoder.reset();
        const draft: SelfDraft | null | undefined = selfDraft && {
          layers: selfDraft.layer,
          minConfidence: selfDraft.minConfidence,
          propose: (h) => controller.propose(h, selfDraft.layer),
        };
        const speculation =
          draft === undefined ? {} : { speculation: { selfDraft: draft, table: table ? habits : null } };
        const t = performance.now();
        for await (const tok of model.generate({
          promptIds,
          maxTokens: tokens,
          sampling: GREEDY,
          ignoreEos: true,
          ...speculation,
        }))
          void tok;
        ms[i] += performance.now() - t;
      }
    }
  } finally {
    controller.close();
    model.decoder.reset();
  }
  const rate = (i: number) => (prompts.length * tokens) / (ms[i] / 1000);
  settings.forEach(
    (s, i) =>
      (measured[
        s.name === "fullDepth"
          ? "fullDepthTokensPerSecond"
          : s.name === "lookup" || s.name === "habits"
            ? `${s.name}TokensPerSecond`
            : s.name
      ] = round4(rate(i))),
  );
  // The habits cost nothing to draft and adapt their length to their acceptance, so they stay
  // unless measured slower beyond noise; self-drafting runs layers, so it must measure faster.
  let best = rate(2) >= rate(1) * 0.97 ? 2 : 1;
  for (let i = 3; i < settings.length; i++) if (rate(i) > rate(best) * 1.03) best = i;
  return {
    selfDraft: settings[best].selfDraft ?? null,
    table: settings[best].table,
    speedup: round4(rate(best) / rate(0)),
    measured,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
