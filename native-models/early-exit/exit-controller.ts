// Early exit at run time. At each scheduled layer the token's state goes through that layer's exit
// head (a tuned lens) and a *shortlist head* (the final norm and the LM-head rows of the tokens the
// model actually predicts in calibration text, about a thousand at most); when the top probability
// over the shortlist reaches the layer's threshold for the current knob, the token exits there with
// that distribution. The last layer always finishes.
//
// Why not SpecEE's verification with the full LM head: measured on kjv16 with the native kernels,
// one full-vocabulary head costs about as much as a layer, and the 12-feature predictor fired on
// so many tokens whose verification then failed that early exit ran at 0.7x of full depth. A
// shortlist head over the exit head's state is a twentieth of a layer and its confidence is the
// sharpest exit signal measured here (CALM's softmax confidence, through the tuned lens);
// thresholds are set per layer and per knob by simulating this exact rule on calibration text.
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ModelRunner } from "../runtime/model-runner.js";
import type { ExitStrategy } from "../runtime/decoder.js";
import { loadNativeKernels, type NativeLinear } from "../kernels/index.js";
import { ExitPolicySchema, readMaps, type ExitPolicy, type StoredMap } from "./policy.js";
import { exitThresholds } from "../runtime/knob.js";
import { ExitHead, type AffineMap } from "./exit-head.js";
import { argmax } from "../runtime/sampler.js";
import { softcapInPlace } from "../runtime/softcap.js";
import type { ExitTelemetry } from "../../wire/generation.js";

/** What one token's exit machinery did (for the per-token telemetry; the app shows it per token). */
export type { ExitTelemetry };

export class ExitController {
  private readonly exitHeads = new Map<number, ExitHead>();
  private readonly shortlist: Shortlist;
  private telemetry: ExitTelemetry | null = null;

  constructor(
    readonly runner: ModelRunner,
    readonly policy: ExitPolicy,
    maps: { exitHeads: Map<number, AffineMap> },
  ) {
    for (const [layer, m] of maps.exitHeads) this.exitHeads.set(layer, new ExitHead(m, runner.threads));
    this.shortlist = new Shortlist(runner, policy.shortlist);
  }

  /** The controller for a loaded model, or null when it has not been calibrated (or was calibrated by an older version). */
  static async forModel(model: { runner: ModelRunner }): Promise<ExitController | null> {
    const cal = model.runner.manifest.calibration;
    if (!cal) return null;
    const parsed = ExitPolicySchema.safeParse(
      JSON.parse(await readFile(path.join(model.runner.dir, cal.file), "utf8")),
    );
    if (!parsed.success) return null;
    return new ExitController(model.runner, parsed.data, await readMaps(model.runner.dir, parsed.data));
  }

  /** A controller for a policy whose maps file is still in memory (calibration). */
  static fromBytes(runner: ModelRunner, policy: ExitPolicy, maps: Uint8Array): ExitController {
    const floats = new Float32Array(maps.buffer, maps.byteOffset, maps.byteLength / 4);
    const load = (m: StoredMap): AffineMap => {
      const wLen = m.kind === "full" ? m.d * m.inputs : m.d;
      const at = m.offset / 4;
      return {
        kind: m.kind,
        d: m.d,
        inputs: m.inputs,
        w: floats.slice(at, at + wLen),
        b: floats.slice(at + wLen, at + wLen + m.d),
      };
    };
    return new ExitController(runner, policy, {
      exitHeads: new Map(Object.entries(policy.maps.exitHeads).map(([l, m]) => [Number(l), load(m)])),
    });
  }

  /** The state the LM head should see for an exit after `layer` (through its exit head when it has one). */
  mapped(hidden: Float32Array, layer: number): Float32Array {
    const head = this.exitHeads.get(layer);
    return head ? head.apply(hidden) : hidden;
  }

  /** The exit rule's token after `layer` and its probability over the shortlist (a self-draft). */
  propose(hidden: Float32Array, layer: number): { token: number; confidence: number } {
    const e = this.shortlist.evaluate(this.mapped(hidden, layer));
    return { token: e.top, confidence: e.confidence };
  }

  /** Forgets per-answer state (a new answer starts afresh: same prompt, same answer). */
  reset(): void {
    this.telemetry = null;
  }

  /** The telemetry of the token that just finished (and forgets it). */
  takeTelemetry(): ExitTelemetry | null {
    const t = this.telemetry;
    this.telemetry = null;
    return t;
  }

  /**
   * A strategy for the current knob value; undefined at knob 0 (full depth, exit off). An exit's
   * logits cover only the shortlist (enough for greedy decoding) unless `fullLogits`: then the exit
   * head's state goes through the whole LM head (sampling, likelihoods).
   */
  strategyFor(
    knob: number,
    o: { kvMode?: ExitPolicy["kvMode"]; fullLogits?: boolean } = {},
  ): ExitStrategy | undefined {
    if (!(knob > 0)) return undefined;
    const thresholds = exitThresholds(this.policy, knob);
    let tele: ExitTelemetry = blank();
    return {
      kvMode: o.kvMode ?? this.policy.kvMode,
      beginToken: () => {
        tele = blank();
        this.telemetry = tele;
      },
      afterLayer: (l, hidden) => {
        const layer = l + 1;
        const threshold = thresholds.get(layer);
        if (threshold === undefined) return null;
        const t = performance.now();
        const state = this.mapped(hidden, layer);
        const { confidence, logits } = this.shortlist.evaluate(state);
        tele.predictorMs += performance.now() - t;
        tele.checkedLayers.push(layer);
        if (confidence < threshold) return null;
        return o.fullLogits ? this.runner.logits(state, 1) : logits();
      },
    };
  }

  /** Frees the native copies of the heads. */
  close(): void {
    for (const h of this.exitHeads.values()) h.close();
    this.shortlist.close();
  }
}

function blank(): ExitTelemetry {
  return { checkedLayers: [], predictorMs: 0, verifyMs: 0, draftMs: 0 };
}

/** Final norm + the LM-head rows of the shortlisted tokens, natively when the kernels are built. */
export class Shortlist {
  private readonly native: NativeLinear | null;
  private readonly rows: Float32Array;
  private readonly out: Float32Array;
  private readonly norm: Float32Array;
  /** The full-vocabulary logits of an exit (see `evaluate`). */
  private full: Float32Array | null = null;

  constructor(
    private readonly runner: ModelRunner,
    private readonly ids: readonly number[],
  ) {
    const d = runner.config.hiddenSize;
    const { rows, finalNorm } = runner.headRows();
    this.rows = new Float32Array(ids.length * d);
    ids.forEach((id, i) => rows.row(id, this.rows, i * d));
    this.norm = finalNorm;
    this.out = new Float32Array(ids.length);
    const kernel = loadNativeKernels();
    this.native = kernel.available
      ? kernel.createLinear({
          outputs: ids.length,
          inputs: d,
          bits: 8,
          blockSize: 32,
          weights: this.rows,
          norm: finalNorm,
          eps: runner.config.rmsNormEps,
          threads: runner.threads,
        })
      : null;
  }

  /**
   * The shortlist's best token and its probability (over the shortlist), and on demand
   * full-vocabulary logits with only the shortlist finite.
   */
  evaluate(state: Float32Array): { top: number; confidence: number; logits: () => Float32Array } {
    let best = 0;
    let confidence: number;
    const cap = this.runner.config.finalLogitSoftcap;
    if (this.native && !cap) [best, confidence] = this.native.runTop(state, this.out);
    else {
      // Soft-capped models: the capped logits decide the confidence, as in the full head.
      if (this.native) this.native.run(state, this.out, 1);
      else this.plain(state);
      softcapInPlace(this.out, cap);
      best = argmax(this.out);
      confidence = topProbability(this.out, best);
    }
    const values = this.out;
    return {
      top: this.ids[best],
      confidence,
      logits: () => {
        // Called at most once, right after evaluate (the exit), before the buffers are reused;
        // the decoder's caller reads a step's logits before the next step.
        this.full ??= new Float32Array(this.runner.config.vocabSize);
        const full = this.full.fill(-Infinity);
        this.ids.forEach((id, i) => (full[id] = values[i]));
        return full;
      },
    };
  }

  /**
   * `evaluate` over `rows` states at once (rows ≤ 64; calibration): the best shortlisted token
   * and its probability for each.
   */
  evaluateRows(states: Float32Array, rows: number): { top: Int32Array; confidence: Float32Array } {
    const n = this.ids.length;
    const out = new Float32Array(rows * n);
    const d = this.norm.length;
    if (this.native) this.native.run(states, out, rows);
    else
      for (let r = 0; r < rows; r++) {
        this.plain(states.subarray(r * d, (r + 1) * d));
        out.set(this.out, r * n);
      }
    softcapInPlace(out, this.runner.config.finalLogitSoftcap);
    const top = new Int32Array(rows);
    const confidence = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const row = out.subarray(r * n, (r + 1) * n);
      const best = argmax(row);
      top[r] = this.ids[best];
      confidence[r] = topProbability(row, best);
    }
    return { top, confidence };
  }

  private plain(state: Float32Array): void {
    const d = this.norm.length;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += state[j] * state[j];
    const inv = 1 / Math.sqrt(ss / d + this.runner.config.rmsNormEps);
    for (let i = 0; i < this.ids.length; i++) {
      let s = 0;
      const base = i * d;
      for (let j = 0; j < d; j++) s += this.rows[base + j] * state[j] * this.norm[j];
      this.out[i] = s * inv;
    }
  }

  close(): void {
    this.native?.close();
  }
}

/** softmax(logits)[top], where `top` is the argmax. */
export function topProbability(logits: Float32Array, top: number): number {
  const max = logits[top];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return 1 / sum;
}
