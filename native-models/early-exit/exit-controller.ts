// Speculative early exit at run time (SpecEE): per token, candidates first; then at each scheduled
// layer the predictor scores the reduced-head features; when it fires, the full LM head at that
// layer verifies: exit only if its argmax is one of the candidates (and, with a calibrated minimum,
// confident enough). Where calibration trained an exit head for the layer, the LM head sees the
// mapped hidden state (a "tuned lens") instead of the raw one. The last layer always finishes.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ModelRunner } from "../runtime/model-runner.js";
import type { ExitStrategy } from "../runtime/decoder.js";
import { argmax } from "../runtime/sampler.js";
import { ReducedHead } from "./features.js";
import { Predictor } from "./predictor.js";
import { ExitPolicySchema, minConfidenceAt, thresholdAt, type ExitPolicy } from "./policy.js";
import { draftCandidates, ngramCandidates } from "./candidates.js";
import { DraftHead } from "./draft-head.js";
import { ExitHead } from "./exit-head.js";

/** What one token's exit machinery did (for the per-token telemetry). */
export interface ExitTelemetry {
  checkedLayers: number[];
  candidates: number[];
  predictorMs: number;
  verifyMs: number;
  draftMs: number;
  /** Candidates contained the final token (only known when the token ran to full depth or exited). */
}

export interface StrategyOverrides {
  kvMode?: ExitPolicy["kvMode"];
  candidateSource?: ExitPolicy["candidateSource"];
  draftLayer?: number;
  /** Disable online scheduling (offline layer set only). */
  offlineOnly?: boolean;
}

export class ExitController {
  private readonly predictors = new Map<number, Predictor>();
  private readonly head: ReducedHead;
  private readonly draftHead: DraftHead | null;
  private readonly exitHeads = new Map<number, ExitHead>();
  /** Exit layers of the latest tokens (online scheduling). */
  private readonly recentExits: number[] = [];
  private telemetry: ExitTelemetry | null = null;

  constructor(
    readonly runner: ModelRunner,
    readonly policy: ExitPolicy,
  ) {
    for (const [layer, w] of Object.entries(policy.predictors)) this.predictors.set(Number(layer), new Predictor(w));
    const { rows, finalNorm } = runner.headRows();
    this.head = new ReducedHead(rows, finalNorm, runner.config.rmsNormEps, policy.k);
    this.draftHead = policy.draftHead ? new DraftHead(policy.draftHead) : null;
    for (const [layer, w] of Object.entries(policy.exitHeads ?? {})) this.exitHeads.set(Number(layer), new ExitHead(w));
  }

  /** The LM head's logits for an exit after `layer` (through its exit head when it has one). */
  exitLogits(hidden: Float32Array, layer: number): Promise<Float32Array> {
    const head = this.exitHeads.get(layer);
    return this.runner.logits(head ? head.map(hidden) : hidden, 1);
  }

  /** The controller for a loaded model, or null when it has not been calibrated. */
  static async forModel(model: { runner: ModelRunner }): Promise<ExitController | null> {
    const cal = model.runner.manifest.calibration;
    if (!cal) return null;
    const raw = JSON.parse(await readFile(path.join(model.runner.dir, cal.file), "utf8"));
    return new ExitController(model.runner, ExitPolicySchema.parse(raw));
  }

  /** Forgets the recent exits (a new answer starts its online schedule afresh: same prompt, same answer). */
  reset(): void {
    this.recentExits.length = 0;
    this.telemetry = null;
  }

  /** The telemetry of the token that just finished (and forgets it). */
  takeTelemetry(): ExitTelemetry | null {
    const t = this.telemetry;
    this.telemetry = null;
    return t;
  }

  /** A strategy for the current knob value; undefined at knob 0 (full depth, exit off). */
  strategyFor(knob: number, o: StrategyOverrides = {}): ExitStrategy | undefined {
    if (!(knob > 0)) return undefined;
    const p = this.policy;
    const L = this.runner.layers;
    const kvMode = o.kvMode ?? p.kvMode;
    const requested = o.candidateSource ?? p.candidateSource;
    // A policy without a trained draft head cannot use that source: fall back to the draft layer.
    const source = requested === "draft-head" && !this.draftHead ? "draft-layer" : requested;
    const draftLayer = source === "draft-layer" ? (o.draftLayer ?? p.draftLayer) : 1;
    const thresholds = new Map<number, number>();
    const minConfidence = new Map<number, number>();
    for (const layer of this.predictors.keys()) {
      thresholds.set(layer, thresholdAt(p, layer, knob));
      minConfidence.set(layer, minConfidenceAt(p, layer, knob));
    }

    let candidates: number[] = [];
    let scheduled = new Set<number>();
    let tele: ExitTelemetry;

    const verify = async (hidden: Float32Array, layer: number, logits?: Float32Array): Promise<Float32Array | null> => {
      const t = performance.now();
      const full = logits ?? (await this.exitLogits(hidden, layer));
      const top = argmax(full);
      const pass = candidates.includes(top) && topProbability(full, top) >= (minConfidence.get(layer) ?? 0);
      tele.verifyMs += performance.now() - t;
      return pass ? this.finish(full, layer) : null;
    };

    return {
      kvMode,
      beginToken: async (tokenId, _position, history, previousHidden) => {
        tele = { checkedLayers: [], candidates: [], predictorMs: 0, verifyMs: 0, draftMs: 0 };
        this.telemetry = tele;
        scheduled = this.schedule(draftLayer, L, o.offlineOnly);
        candidates = [];
        const t = performance.now();
        if (source === "ngram") {
          candidates = ngramCandidates(history, tokenId, p.k);
        } else if (source === "draft-head" && previousHidden) {
          const guess = this.draftHead!.predict(previousHidden, this.runner.embed([tokenId]));
          candidates = draftCandidates(await this.runner.logits(guess, 1), p.k);
        }
        if (candidates.length) this.head.setCandidates(candidates);
        tele.candidates = candidates;
        tele.draftMs += performance.now() - t;
        // A token that runs to the end counts as a full-depth exit for scheduling.
        this.noteExit(L);
      },
      afterLayer: async (l, hidden) => {
        const layer = l + 1;
        let draftLogits: Float32Array | undefined;
        if (source === "draft-layer" && layer === draftLayer) {
          const t = performance.now();
          draftLogits = await this.exitLogits(hidden, layer);
          candidates = draftCandidates(draftLogits, p.k);
          this.head.setCandidates(candidates);
          tele.candidates = candidates;
          tele.draftMs += performance.now() - t;
        }
        if (!candidates.length || layer < draftLayer) return null;
        // Features at every layer from the draft layer on (k dot products: microseconds), so the
        // "change since the previous layer" features mean what they meant in calibration; the
        // predictor itself only runs on scheduled layers.
        const t = performance.now();
        const features = this.head.compute(hidden);
        const predictor = this.predictors.get(layer);
        if (!scheduled.has(layer) || !predictor) {
          tele.predictorMs += performance.now() - t;
          return null;
        }
        const threshold = thresholds.get(layer) ?? Infinity;
        const score = predictor.predict(features);
        tele.predictorMs += performance.now() - t;
        tele.checkedLayers.push(layer);
        if (score < threshold) return null;
        return verify(hidden, layer, draftLogits);
      },
    };
  }

  /** Offline layer set ∪ layers near the recent exits, within [draftLayer, L-1]. */
  private schedule(draftLayer: number, L: number, offlineOnly?: boolean): Set<number> {
    const set = new Set(this.policy.offlineLayers);
    if (!offlineOnly) {
      for (const x of this.recentExits) for (const o of this.policy.onlineOffsets) set.add(x + o);
    }
    for (const l of [...set]) if (l < draftLayer || l >= L || !this.predictors.has(l)) set.delete(l);
    return set;
  }

  private noteExit(layer: number): void {
    this.recentExits.push(layer);
    if (this.recentExits.length > this.policy.onlineWindow) this.recentExits.shift();
  }

  private finish(logits: Float32Array, layer: number): Float32Array {
    // Replace the provisional full-depth entry noted at the start of the token.
    this.recentExits[this.recentExits.length - 1] = layer;
    return logits;
  }
}

/** softmax(logits)[top], where `top` is the argmax. */
export function topProbability(logits: Float32Array, top: number): number {
  const max = logits[top];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return 1 / sum;
}
