// Calibration: the model writes its own text from built-in prompts (greedy and sampled), then a
// full-depth teacher-forced pass measures, per layer, whether the "logit lens" argmax already equals
// the final token. From that: exit heads (a trained "tuned lens" per layer, for models small enough
// to train them in JS), the candidate source and draft layer, one predictor per layer, the offline
// layer set, thresholds for every knob value, and — on held-out text, with the real exit
// machinery — the knob's curve (agreement, mean executed layers, decode speedup), for both KV modes.
import type { LoadedModel } from "../engine/loaded-model.js";
import type { Decoder } from "../runtime/decoder.js";
import { argmax, topIds } from "../runtime/sampler.js";
import { CALIBRATION_PROMPTS } from "./calibration-text.js";
import { ReducedHead } from "./features.js";
import { trainPredictor, Predictor } from "./predictor.js";
import { ngramCandidates } from "./candidates.js";
import { DraftHead, draftHeadTrainable, trainDraftHead, type DraftExample } from "./draft-head.js";
import { ExitController, topProbability } from "./exit-controller.js";
import { ExitHead, exitHeadTrainable, trainExitHead, type ExitHeadWeights } from "./exit-head.js";
import { KNOB_GRID, type ExitPolicy, type CandidateSourceName } from "./policy.js";
import { optimiseThresholds, type LayerDecisions } from "./thresholds.js";

/** Calibration stops at its next check once `signal` is aborted (an AbortError, as fetch and streams throw). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw Object.assign(new Error("calibration cancelled"), { name: "AbortError" });
}

export interface CalibrateOptions {
  k?: number;
  tokensPerPrompt?: number;
  prompts?: string[];
  /** Extra calibration text from the user (tokenized and added as training sequences). */
  extraText?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number, detail: string) => void;
  /** Knob values whose curve point is measured. */
  curveKnobs?: number[];
  /** Force a candidate source / draft layer instead of choosing by measurement. */
  candidateSource?: CandidateSourceName;
  draftLayer?: number;
}

export interface CurvePoint {
  knob: number;
  agreement: number;
  meanExitLayer: number;
  speedup: number;
}

export interface CalibrationResult {
  policy: ExitPolicy;
  curve: CurvePoint[];
  seconds: number;
}

interface Position {
  seq: number;
  pos: number;
  /** Logit-lens argmax after each layer (index layer-1); the last one is the final token. */
  lens: Int32Array;
  /** Top-k ids of the lens after each layer, flattened [L, k]. */
  topk: Int32Array;
  /** The lens's top probability after each layer (the verification's confidence). */
  conf: Float32Array;
  /** Hidden state after each layer but the last (only kept while exit heads are trained). */
  hidden?: Float32Array[];
  /** The full model's next-token distribution (only kept while exit heads are trained). */
  finalProbs?: Float32Array;
  ngram: number[];
  /** Final hidden state (only kept while a draft head is trained). */
  final?: Float32Array;
  draft?: number[];
}

const PREDICTOR_HIDDEN = 32;
/**
 * Layers whose plain logit lens agrees with the final token less often than this get no exit
 * head and no predictor: what a trained head learns there from the model's own text does not
 * carry over to other text (stories260K layer 2: 40% on held-out calibration text, mostly wrong
 * on the reference stories), and exits that early also leave the most layers' KV approximate.
 */
const MIN_LENS_AGREEMENT = 0.1;

export async function calibrate(model: LoadedModel, o: CalibrateOptions = {}): Promise<CalibrationResult> {
  const started = performance.now();
  const k = o.k ?? 4;
  const L = model.runner.layers;
  const progress = o.onProgress ?? (() => {});
  const check = () => throwIfCancelled(o.signal);
  // Training is plain JS: between epochs, let the host read its messages (a cancel) and act on them.
  const breathe = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    check();
  };

  // 1. Calibration text, written by the model itself at full depth.
  const prompts = o.prompts ?? CALIBRATION_PROMPTS;
  const budget = Math.min(o.tokensPerPrompt ?? 96, Math.floor(model.runner.maxPositions / 2));
  // Each prompt is continued twice: greedy, and sampled (closer to text people write).
  const sequences: { ids: number[]; prompt: number }[] = [];
  for (let i = 0; i < prompts.length; i++) {
    const promptIds = model.encodeRaw(prompts[i]);
    for (const greedy of [true, false]) {
      check();
      progress((0.3 * (2 * i + (greedy ? 0 : 1))) / (2 * prompts.length), "writing calibration text");
      const ids = [...promptIds];
      const it = model.generate({
        promptIds,
        maxTokens: budget,
        sampling: greedy
          ? { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 }
          : { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1, seed: 1000 + i },
      });
      for await (const t of it) ids.push(t.id);
      sequences.push({ ids: ids.slice(0, model.runner.maxPositions), prompt: i });
    }
  }
  if (o.extraText) {
    const extra = model.encodeRaw(o.extraText);
    for (let s = 0; s < extra.length; s += budget * 2) sequences.push({ ids: extra.slice(s, s + budget * 2), prompt: prompts.length + s });
  }
  // Every fourth prompt's texts are held out for the curve; the rest train. Out-of-fold estimates
  // split the training texts by prompt too, so a greedy and a sampled text of one prompt (which
  // share their start) never sit on both sides.
  const trainSet = sequences.filter((q) => q.prompt % 4 !== 3);
  const train = trainSet.map((q) => q.ids);
  const heldOut = sequences.filter((q) => q.prompt % 4 === 3).map((q) => q.ids);
  const foldOf = (seq: number) => Math.floor(trainSet[seq].prompt / 4) % 2;

  // 2. Full-depth logit lens over the training text.
  const positions: Position[] = [];
  const d = model.runner.config.hiddenSize;
  const V = model.runner.config.vocabSize;
  const trainDraft = draftHeadTrainable(d, V);
  const trainExitHeads = exitHeadTrainable(d, V);
  for (let s = 0; s < train.length; s++) {
    check();
    progress(0.3 + (0.2 * s) / train.length, "measuring the logit lens");
    await forEachLayer(model.decoder, train[s], async (layer, logits, count, offset, hidden) => {
      if (layer === 1) {
        for (let i = 0; i < count; i++) {
          const pos = offset + i;
          positions.push({
            seq: s,
            pos,
            lens: new Int32Array(L),
            topk: new Int32Array(L * k),
            conf: new Float32Array(L),
            ngram: ngramCandidates(train[s].slice(0, pos), train[s][pos], k),
            ...(trainExitHeads ? { hidden: [] } : {}),
          });
        }
      }
      for (let i = 0; i < count; i++) {
        const p = positions[positions.length - count + i];
        const row = logits!.subarray(i * V, (i + 1) * V);
        setLens(p, layer, row, k);
        if (layer === L && trainDraft) p.final = hidden.slice(i * d, (i + 1) * d);
        if (layer < L) p.hidden?.push(hidden.slice(i * d, (i + 1) * d));
        else if (p.hidden) p.finalProbs = softmax(row);
      }
    });
  }
  check();
  progress(0.5, "training the draft head");
  const draftHead = trainDraft ? await fitDraftHead(model, train, positions, k, foldOf, breathe) : null;
  check();
  const rawLensAgreement = lensAgreementOf(positions, L);
  progress(0.52, "training exit heads");
  const exitHeads = trainExitHeads ? await fitExitHeads(model, positions, rawLensAgreement, k, foldOf, breathe) : {};
  check();

  // 3. Candidate source and draft layer by expected layers saved per token.
  const final = (p: Position) => p.lens[L - 1];
  const firstExit = (p: Position, from: number) => {
    for (let l = from; l < L; l++) if (p.lens[l - 1] === final(p)) return l;
    return L;
  };
  const headCost = estimateHeadCostInLayers(model);
  const options: { source: CandidateSourceName; draftLayer: number; recall: number; saved: number }[] = [];
  for (let d = 1; d < L; d++) {
    let hits = 0;
    let saved = 0;
    for (const p of positions) {
      if (!p.topk.subarray((d - 1) * k, d * k).includes(final(p))) continue;
      hits++;
      saved += L - firstExit(p, d);
    }
    options.push({ source: "draft-layer", draftLayer: d, recall: hits / positions.length, saved: saved / positions.length - headCost });
  }
  {
    let hits = 0;
    let saved = 0;
    for (const p of positions) {
      if (!p.ngram.includes(final(p))) continue;
      hits++;
      saved += L - firstExit(p, 1);
    }
    options.push({ source: "ngram", draftLayer: 1, recall: hits / positions.length, saved: saved / positions.length });
  }
  if (draftHead) {
    let hits = 0;
    let saved = 0;
    for (const p of positions) {
      if (!p.draft?.includes(final(p))) continue;
      hits++;
      saved += L - firstExit(p, 1);
    }
    options.push({ source: "draft-head", draftLayer: 1, recall: hits / positions.length, saved: saved / positions.length - headCost });
  }
  const forced = options.find((c) => c.source === o.candidateSource && (o.candidateSource === "ngram" || c.draftLayer === o.draftLayer));
  const best = forced ?? options.reduce((a, b) => (b.saved > a.saved ? b : a));

  // 4. Features, labels and one predictor per layer from the draft layer on.
  progress(0.55, "training predictors");
  const data = await collectFeatures(model, train, positions, best.source, best.draftLayer, k);
  const policy: ExitPolicy = {
    version: 1,
    k,
    candidateSource: best.source,
    draftLayer: best.draftLayer,
    kvMode: "masked",
    offlineLayers: [],
    onlineOffsets: [-1, 0, 1],
    onlineWindow: 5,
    predictors: {},
    thresholds: {},
    stats: {},
    ...(draftHead && best.source === "draft-head" ? { draftHead: draftHead.weights } : {}),
    ...(Object.keys(exitHeads).length ? { exitHeads, minConfidence: {} } : {}),
  };
  const lensAgreement = lensAgreementOf(positions, L);
  const exitShare: Record<string, number> = {};
  const decisions: LayerDecisions[] = [];
  const predictorScores = new Map<number, { scores: Float32Array; rows: LayerData }>();
  for (let l = best.draftLayer; l < L; l++) {
    check();
    if (rawLensAgreement[l - 1] < MIN_LENS_AGREEMENT) continue;
    const rows = data.get(l);
    if (!rows || rows.y.every((v) => v === 0)) continue;
    // Out-of-fold scores (train on one half of the sequences, score the other) so thresholds are
    // chosen on scores as honest as the ones the predictor will give on new text.
    const scores = new Float32Array(rows.y.length);
    for (const fold of [0, 1]) {
      const trainIdx = rows.seq.flatMap((q, i) => (foldOf(q) !== fold ? [i] : []));
      if (trainIdx.length === 0) continue;
      const p = new Predictor(await fitPredictor(rows, trainIdx, l, breathe));
      rows.seq.forEach((q, i) => {
        if (foldOf(q) === fold) scores[i] = p.predict(rows.x[i]);
      });
    }
    policy.predictors[String(l)] = await fitPredictor(rows, Array.from(rows.y, (_, i) => i), l, breathe);
    predictorScores.set(l, { scores, rows });
    // With a confidence check the knob acts on the verification's confidence (a far sharper exit
    // signal than the predictor's, measured); the predictor then only gates who gets verified.
    decisions.push({ layer: l, scores: policy.minConfidence ? rows.conf : scores, verified: rows.verified, correct: rows.y });
    exitShare[String(l)] = positions.filter((p) => firstExit(p, best.draftLayer) === l && candidatesOf(p, best, k).includes(final(p))).length / positions.length;
  }
  for (const [layer, row] of optimiseThresholds(decisions, L, KNOB_GRID)) {
    if (!policy.minConfidence) {
      policy.thresholds[String(layer)] = row;
      continue;
    }
    policy.minConfidence[String(layer)] = row;
    const { scores, rows } = predictorScores.get(layer)!;
    policy.thresholds[String(layer)] = row.map((minConf) => gateFor(scores, rows, minConf));
  }
  // Offline set: layers that are the first correct exit for at least 2% of tokens (at most 8).
  policy.offlineLayers = Object.entries(exitShare)
    .filter(([, share]) => share >= 0.02)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([l]) => Number(l))
    .sort((a, b) => a - b);
  policy.stats = {
    positions: positions.length,
    trainSequences: train.length,
    heldOutSequences: heldOut.length,
    logitLensAgreement: rawLensAgreement.map(round4),
    ...(policy.exitHeads ? { exitHeadAgreement: lensAgreement.map(round4), exitHeadLayers: Object.keys(exitHeads).map(Number) } : {}),
    candidateSources: options.map((c) => ({ ...c, recall: round4(c.recall), saved: round4(c.saved) })),
    chosen: { source: best.source, draftLayer: best.draftLayer, recall: round4(best.recall) },
    headCostInLayers: round4(headCost),
    exitShare,
  };

  // 5. KV handling of skipped layers: both measured on held-out text, the better one is the default.
  progress(0.7, "measuring KV handling");
  const kvModes: Record<string, { agreement: number; meanExitLayer: number; speedup: number }> = {};
  for (const kvMode of ["masked", "deferred"] as const) {
    check();
    kvModes[kvMode] = await measure(model, { ...policy, kvMode }, heldOut, 0.5);
  }
  const m = kvModes.masked;
  const pr = kvModes.deferred;
  policy.kvMode = pr.agreement > m.agreement + 0.005 ? "deferred" : m.agreement > pr.agreement + 0.005 ? "masked" : pr.speedup > m.speedup ? "deferred" : "masked";
  policy.stats.kvModes = kvModes;

  // 6. The knob's curve on held-out text.
  const curve: CurvePoint[] = [];
  const knobs = o.curveKnobs ?? [0.2, 0.4, 0.6, 0.8, 1.0];
  for (let i = 0; i < knobs.length; i++) {
    check();
    progress(0.75 + (0.25 * i) / knobs.length, `measuring knob ${knobs[i]}`);
    curve.push({ knob: knobs[i], ...(await measure(model, policy, heldOut, knobs[i])) });
  }
  progress(1, "early exit calibrated");
  model.decoder.reset();
  return { policy, curve, seconds: (performance.now() - started) / 1000 };
}

function fitPredictor(rows: LayerData, idx: number[], layer: number, afterEpoch: () => Promise<void>) {
  const y = Uint8Array.from(idx, (i) => rows.y[i]);
  const positives = y.reduce((s, v) => s + v, 0);
  return trainPredictor(
    idx.map((i) => rows.x[i]),
    y,
    {
      hidden: PREDICTOR_HIDDEN,
      epochs: 30,
      learningRate: 0.003,
      seed: 17 + layer,
      positiveWeight: Math.min(4, Math.max(1, (y.length - positives) / Math.max(1, positives))),
      afterEpoch,
    },
  );
}

function candidatesOf(p: Position, best: { source: CandidateSourceName; draftLayer: number }, k: number): number[] {
  if (best.source === "ngram") return p.ngram;
  if (best.source === "draft-head") return p.draft ?? [];
  return Array.from(p.topk.subarray((best.draftLayer - 1) * k, best.draftLayer * k));
}

/** Trains the draft head on (previous final hidden, current embedding) -> final token; sets p.draft. */
async function fitDraftHead(
  model: LoadedModel,
  train: number[][],
  positions: Position[],
  k: number,
  foldOf: (seq: number) => number,
  afterEpoch: () => Promise<void>,
): Promise<DraftHead> {
  const r = model.runner;
  const { head, finalNorm } = denseLmHead(model);
  const examples: (DraftExample & { p: Position })[] = [];
  for (let i = 1; i < positions.length; i++) {
    const p = positions[i];
    const prev = positions[i - 1];
    if (prev.seq !== p.seq || !prev.final) continue;
    examples.push({ p, hPrev: prev.final, emb: r.embed([train[p.seq][p.pos]]), target: p.lens[r.layers - 1] });
  }
  // Two folds: each half's candidates come from a head trained on the other half, so the
  // predictors learn from candidates as good as they will be on unseen text (not overfit ones).
  const fold = (ex: { p: Position }) => foldOf(ex.p.seq);
  const options = (seed: number) => ({ epochs: 20, learningRate: 0.003, seed, afterEpoch });
  const fit = async (f: number) =>
    new DraftHead(await trainDraftHead(examples.filter((e) => fold(e) !== f), head, finalNorm, r.config.rmsNormEps, options(5 + f)));
  const heads = [await fit(0), await fit(1)];
  for (const ex of examples) ex.p.draft = topIds(await r.logits(heads[fold(ex)].predict(ex.hPrev, ex.emb), 1), k);
  const draft = new DraftHead(await trainDraftHead(examples, head, finalNorm, r.config.rmsNormEps, options(5)));
  for (const p of positions) delete p.final;
  return draft;
}

/**
 * Runs `ids` at full depth in chunks, handing every layer's output (and, unless `withLogits` is
 * false, its logit-lens logits) to `visit`.
 */
async function forEachLayer(
  decoder: Decoder,
  ids: readonly number[],
  visit: (layer: number, logits: Float32Array | null, count: number, offset: number, hidden: Float32Array) => Promise<void> | void,
  withLogits = true,
  chunk = 64,
): Promise<void> {
  const r = decoder.runner;
  decoder.reset();
  for (let start = 0; start < ids.length; start += chunk) {
    const part = ids.slice(start, start + chunk);
    const positions = part.map((_, i) => start + i);
    let h = r.embed(part);
    for (let l = 0; l < r.layers; l++) {
      h = await r.layer(l, h, positions);
      await visit(l + 1, withLogits ? await r.logits(h, part.length) : null, part.length, start, h);
    }
  }
  decoder.reset();
}

interface LayerData {
  x: Float32Array[];
  y: Uint8Array;
  verified: Uint8Array;
  /** The lens's (exit head's) top probability. */
  conf: Float32Array;
  /** Calibration sequence of each row (for out-of-fold scoring). */
  seq: number[];
}

async function collectFeatures(
  model: LoadedModel,
  train: number[][],
  positions: Position[],
  source: CandidateSourceName,
  draftLayer: number,
  k: number,
): Promise<Map<number, LayerData>> {
  const r = model.runner;
  const L = r.layers;
  const d = r.config.hiddenSize;
  const { rows, finalNorm } = r.headRows();
  const head = new ReducedHead(rows, finalNorm, r.config.rmsNormEps, k);
  const acc = new Map<number, { x: Float32Array[]; y: number[]; v: number[]; c: number[]; seq: number[] }>();
  const bySeq = new Map<number, Position[]>();
  for (const p of positions) (bySeq.get(p.seq) ?? bySeq.set(p.seq, []).get(p.seq)!).push(p);
  // Hidden states per layer are consumed position by position, so features see the deltas
  // between consecutive checked layers as at run time.
  for (const [s, list] of bySeq) {
    const hiddenByLayer = Array.from({ length: L }, () => new Float32Array(train[s].length * d));
    await forEachLayer(model.decoder, train[s], (layer, _logits, _count, offset, hidden) => hiddenByLayer[layer - 1].set(hidden, offset * d), false);
    for (const p of list) {
      const cands = candidatesOf(p, { source, draftLayer }, k);
      if (!cands.length) continue;
      head.setCandidates(cands);
      const fin = p.lens[L - 1];
      for (let l = draftLayer; l < L; l++) {
        const f = head.compute(hiddenByLayer[l - 1].subarray(p.pos * d, (p.pos + 1) * d)).slice();
        const e = acc.get(l) ?? acc.set(l, { x: [], y: [], v: [], c: [], seq: [] }).get(l)!;
        e.seq.push(p.seq);
        e.x.push(f);
        e.y.push(p.lens[l - 1] === fin ? 1 : 0);
        e.v.push(cands.includes(p.lens[l - 1]) ? 1 : 0);
        e.c.push(p.conf[l - 1]);
      }
    }
  }
  return new Map([...acc].map(([l, e]) => [l, { x: e.x, y: Uint8Array.from(e.y), verified: Uint8Array.from(e.v), conf: Float32Array.from(e.c), seq: e.seq }]));
}

/** Teacher-forced agreement, mean executed layers and speedup at `knob`, timed against full depth. */
async function measure(model: LoadedModel, policy: ExitPolicy, texts: number[][], knob: number) {
  const controller = new ExitController(model.runner, policy);
  let same = 0;
  let total = 0;
  let layers = 0;
  let fullMs = 0;
  let exitMs = 0;
  for (const ids of texts) {
    const reference: number[] = [];
    model.decoder.reset();
    let t = performance.now();
    for (let p = 0; p < ids.length - 1; p++) reference.push(argmax((await model.decoder.step(ids[p])).logits));
    fullMs += performance.now() - t;
    model.decoder.reset();
    const strategy = controller.strategyFor(knob);
    t = performance.now();
    for (let p = 0; p < ids.length - 1; p++) {
      const r = await model.decoder.step(ids[p], strategy);
      layers += r.exitLayer;
      if (argmax(r.logits) === reference[p]) same++;
      total++;
    }
    exitMs += performance.now() - t;
  }
  model.decoder.reset();
  return { agreement: round4(same / total), meanExitLayer: round4(layers / total), speedup: round4(fullMs / exitMs) };
}

/** A full LM head costs about vocab/(12·hidden) layers' worth of weights (a layer has ~12·d² of them). */
function estimateHeadCostInLayers(model: LoadedModel): number {
  const c = model.runner.config;
  const layerWeights = 2 * c.hiddenSize * c.numHeads * c.headDim + 2 * c.hiddenSize * c.numKvHeads * c.headDim + 3 * c.hiddenSize * c.intermediateSize;
  return (c.vocabSize * c.hiddenSize) / layerWeights;
}

/** The LM head as one [vocab, d] float matrix (for training maps through it), and the final norm. */
function denseLmHead(model: LoadedModel): { head: Float32Array; finalNorm: Float32Array } {
  const { rows, finalNorm } = model.runner.headRows();
  const { vocabSize: V, hiddenSize: d } = model.runner.config;
  const head = new Float32Array(V * d);
  for (let v = 0; v < V; v++) rows.row(v, head, v * d);
  return { head, finalNorm };
}

/** The lens's argmax, top-k and top probability after `layer` for one position. */
function setLens(p: Position, layer: number, logits: Float32Array, k: number): void {
  const ids = topIds(logits, k);
  p.lens[layer - 1] = ids[0];
  p.topk.set(ids, (layer - 1) * k);
  p.conf[layer - 1] = topProbability(logits, ids[0]);
}

function lensAgreementOf(positions: Position[], L: number): number[] {
  const out: number[] = [];
  for (let l = 1; l <= L; l++) out.push(positions.filter((p) => p.lens[l - 1] === p.lens[L - 1]).length / positions.length);
  return out;
}

function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * Trains an exit head for every layer but the last whose plain lens is not hopeless, and replaces
 * the positions' lens (argmax, top-k, confidence) with the exit heads' out-of-fold predictions —
 * what the heads will do on text they were not trained on. Frees the stored hidden states.
 */
async function fitExitHeads(
  model: LoadedModel,
  positions: Position[],
  rawAgreement: number[],
  k: number,
  foldOf: (seq: number) => number,
  afterEpoch: () => Promise<void>,
): Promise<Record<string, ExitHeadWeights>> {
  const r = model.runner;
  const { vocabSize: V, hiddenSize: d } = r.config;
  const { head, finalNorm } = denseLmHead(model);
  const out: Record<string, ExitHeadWeights> = {};
  const options = (seed: number) => ({ epochs: 5, learningRate: 0.002, seed, afterEpoch });
  for (let layer = 1; layer < r.layers; layer++) {
    if (rawAgreement[layer - 1] < MIN_LENS_AGREEMENT) continue;
    const examples = positions.map((p) => ({ p, hidden: p.hidden![layer - 1], final: p.finalProbs! }));
    const fit = (f: number | null) =>
      trainExitHead(f === null ? examples : examples.filter((e) => foldOf(e.p.seq) !== f), head, finalNorm, r.config.rmsNormEps, options(31 + layer));
    for (const f of [0, 1]) {
      const exitHead = new ExitHead(await fit(f));
      // One LM-head call for the whole held-out fold (the model is small enough by construction).
      const held = examples.filter((e) => foldOf(e.p.seq) === f);
      const mapped = new Float32Array(held.length * d);
      held.forEach((e, i) => mapped.set(exitHead.map(e.hidden), i * d));
      const logits = await r.logits(mapped, held.length);
      held.forEach((e, i) => setLens(e.p, layer, logits.subarray(i * V, (i + 1) * V), k));
    }
    out[String(layer)] = await fit(null);
  }
  for (const p of positions) {
    delete p.hidden;
    delete p.finalProbs;
  }
  return out;
}

/**
 * The predictor score that lets through all but the lowest 2% of the positions the confidence
 * check at `minConf` would let exit (so the predictor saves verifications, not exits); never
 * (> 1) when the layer does not exit at that knob.
 */
function gateFor(scores: Float32Array, rows: LayerData, minConf: number): number {
  if (minConf > 1) return NEVER_EXIT;
  const admitted: number[] = [];
  for (let i = 0; i < scores.length; i++) if (rows.verified[i] && rows.conf[i] >= minConf) admitted.push(scores[i]);
  if (!admitted.length) return NEVER_EXIT;
  admitted.sort((a, b) => a - b);
  return admitted[Math.floor(0.02 * admitted.length)];
}

const NEVER_EXIT = 1.01;

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
