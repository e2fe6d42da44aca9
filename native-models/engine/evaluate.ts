// Teacher-forced evaluation over a token sequence: negative log-likelihood / perplexity of the
// model as run (with early exit when a strategy is given), and agreement of its argmax with the
// full-depth argmax at every position.
import type { Decoder, ExitStrategy } from "../runtime/decoder.js";
import { argmax } from "../runtime/sampler.js";
import type { ExitTelemetry } from "../early-exit/exit-controller.js";

export interface EvalExit {
  /** Undefined: full depth, but still token by token (e.g. to measure sparse FFNs, which act on single tokens). */
  strategy?: ExitStrategy;
  /**
   * The same exits with full-vocabulary logits (what sampling uses), for the log-likelihood; the
   * timed pass uses `strategy`, whose exits may score only a shortlist (enough for the argmax).
   */
  scoringStrategy?: ExitStrategy;
  /** Per-token telemetry of the exit machinery (candidates), when the strategy keeps it. */
  takeTelemetry?: () => ExitTelemetry | null;
}

export interface EvalResult {
  tokens: number;
  nll: number;
  perplexity: number;
  layers: number;
  meanExitLayer: number;
  /** Share of positions whose argmax equals the full-depth argmax. */
  agreement: number;
  /** exitHistogram[i] = positions that ran i+1 layers. */
  exitHistogram: number[];
  /** Full-depth argmax per position (for callers that compare runs). */
  fullArgmax: number[];
  argmax: number[];
  seconds: number;
  /** With early exit: decode speed of the same teacher-forced steps with and without it. */
  speed?: {
    fullDepthTokensPerSecond: number;
    exitTokensPerSecond: number;
    /** Median over the rounds of full-depth time / exit time, each round's two passes back to back. */
    speedup: number;
    /** Every round's ratio, sorted (the spread). */
    speedupRounds: number[];
  };
}

/** Full-depth / exit pass pairs timed for the speedup. */
export const SPEED_ROUNDS = 3;

export function logSoftmaxAt(logits: Float32Array, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
  return logits[offset + target] - max - Math.log(sum);
}

export async function evaluate(
  decoder: Decoder,
  ids: readonly number[],
  exit?: EvalExit,
): Promise<EvalResult> {
  if (ids.length < 2) throw new Error("evaluation needs at least two tokens");
  const V = decoder.runner.config.vocabSize;
  const L = decoder.runner.layers;
  const started = performance.now();
  const full = await decoder.allLogits(ids);
  const fullArgmax: number[] = [];
  for (let p = 0; p < ids.length - 1; p++) fullArgmax.push(argmax(full, p * V, V));

  const histogram = new Array<number>(L).fill(0);
  const chosen: number[] = [];
  let nll = 0;
  if (!exit) {
    for (let p = 0; p < ids.length - 1; p++) {
      nll -= logSoftmaxAt(full, p * V, V, ids[p + 1]);
      chosen.push(fullArgmax[p]);
    }
    histogram[L - 1] = ids.length - 1;
  }
  let speed: EvalResult["speed"];
  if (exit) {
    // The same steps at full depth (the reference tokens: decode steps, as the exit run takes
    // them; chunked prefill rounds slightly differently) and with exit, in SPEED_ROUNDS pairs
    // in alternating order: on a shared machine speed drifts by tens of percent over seconds,
    // and each pair's ratio is measured within the same second or two.
    const steps = ids.length - 1;
    const fullPass = async () => {
      decoder.reset();
      for (let p = 0; p < steps; p++) fullArgmax[p] = argmax((await decoder.step(ids[p])).logits, 0, V);
    };
    const exitPass = async (record: boolean) => {
      decoder.reset();
      for (let p = 0; p < steps; p++) {
        const r = await decoder.step(ids[p], exit.strategy);
        if (record) {
          histogram[r.exitLayer - 1]++;
          if (!exit.scoringStrategy) nll -= logSoftmaxAt(r.logits, 0, V, ids[p + 1]);
          chosen.push(argmax(r.logits, 0, V));
        }
        exit.takeTelemetry?.();
      }
    };
    const timed = async (pass: () => Promise<void>) => {
      const t = performance.now();
      await pass();
      return performance.now() - t;
    };
    const rounds: { fullMs: number; exitMs: number }[] = [];
    for (let round = 0; round < SPEED_ROUNDS; round++) {
      const record = round === 0;
      if (round % 2 === 0) {
        const fullMs = await timed(fullPass);
        rounds.push({ fullMs, exitMs: await timed(() => exitPass(record)) });
      } else {
        const exitMs = await timed(() => exitPass(record));
        rounds.push({ fullMs: await timed(fullPass), exitMs });
      }
    }
    const ratios = rounds.map((r) => r.fullMs / r.exitMs).sort((a, b) => a - b);
    const fullMs = rounds.reduce((s, r) => s + r.fullMs, 0) / rounds.length;
    const exitMs = rounds.reduce((s, r) => s + r.exitMs, 0) / rounds.length;
    speed = {
      fullDepthTokensPerSecond: steps / (fullMs / 1000),
      exitTokensPerSecond: steps / (exitMs / 1000),
      speedup: ratios[ratios.length >> 1],
      speedupRounds: ratios,
    };
    if (exit.scoringStrategy) {
      decoder.reset();
      for (let p = 0; p < ids.length - 1; p++)
        nll -= logSoftmaxAt((await decoder.step(ids[p], exit.scoringStrategy)).logits, 0, V, ids[p + 1]);
      exit.takeTelemetry?.();
    }
  }
  const n = ids.length - 1;
  const same = chosen.filter((t, i) => t === fullArgmax[i]).length;
  const meanExitLayer = histogram.reduce((s, c, i) => s + c * (i + 1), 0) / n;
  return {
    tokens: n,
    nll: nll / n,
    perplexity: Math.exp(nll / n),
    layers: L,
    meanExitLayer,
    agreement: same / n,
    exitHistogram: histogram,
    fullArgmax,
    argmax: chosen,
    seconds: (performance.now() - started) / 1000,
    speed,
  };
}
