// The decode loop as an async iterator of token events. Sampling parameters and the early-exit
// strategy are read before every token, so the speed/accuracy knob can change mid-answer;
// cancellation is checked between layers and takes effect within one token.
import type { ExitTelemetry } from "../../wire/generation.js";
import { ContextFullError } from "./kv-cache.js";
import { CancelledError } from "../formats/cancel.js";
import type { Decoder, ExitStrategy } from "./decoder.js";
import { Sampler, type SamplingParams } from "./sampler.js";
import { Speculator, type SpeculationOptions } from "./speculative.js";
import { StopStringFilter } from "./stop-strings.js";
import type { TokenConstraint } from "./grammar/token-constraint.js";

export interface TokenEvent {
  type: "token";
  id: number;
  /** Text this token adds (may be empty while a possible stop string or a split character is held back). */
  text: string;
  /** Decoder layers executed to produce this token, 1..L. */
  exitLayer: number;
  /** Wall time of this token's forward pass and sampling. */
  ms: number;
  /** Early-exit telemetry of the forward pass that produced this token (when exit was on). */
  exit?: ExitTelemetry;
}

export type StopReason = "eos" | "max_tokens" | "stop_string" | "stopped" | "context_full";

export interface GenerationSummary {
  type: "done";
  tokens: number;
  promptTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  timeToFirstTokenMs: number;
  meanExitLayer: number;
  layers: number;
  stopReason: StopReason;
  text: string;
  /** The end of `text` that no token event carried (held back as a possible stop-string start). */
  tail: string;
  /** Lossless speculative decoding: verification passes run and draft tokens they accepted. */
  speculation?: { rounds: number; accepted: number; proposed: number };
}

export interface StreamDecoder {
  push(id: number): string;
  /** Whatever is still held back (an incomplete UTF-8 sequence is dropped). */
  flush(): string;
}

export interface GenerationTokenizer {
  createStreamDecoder(): StreamDecoder;
  /** Ids that end generation (eos, eot, ...). */
  readonly eosIds: ReadonlySet<number>;
}

export interface GenerateOptions {
  promptIds: readonly number[];
  maxTokens: number;
  sampling: SamplingParams;
  stop?: string[];
  /** Ignore end-of-sequence tokens (benchmarks need a fixed token budget). */
  ignoreEos?: boolean;
  signal?: AbortSignal;
  /** Read before every decode step: the current early-exit strategy (none = full depth). */
  exitStrategy?: () => ExitStrategy | undefined;
  /** Telemetry of the last step's exit machinery, if the strategy keeps any. */
  takeTelemetry?: () => ExitTelemetry | null;
  /**
   * Lossless speculative decoding (every token is the full model's; see speculative.ts) instead of
   * one token per step. The early-exit strategy is then not used.
   */
  speculation?: SpeculationOptions;
  /**
   * Constrained decoding: before every token the grammar's forbidden tokens get −∞ logits, so
   * greedy, top-k/top-p/min-p and lossless verification all choose among the allowed ones. Made
   * when the answer starts; disposed when it ends.
   */
  constraint?: () => Promise<TokenConstraint>;
  /** Time spent computing masks, in ms (benchmarks read it). */
  onMaskMs?: (ms: number) => void;
}

export const NO_TOKENS =
  "the text encodes to no tokens with this model's tokenizer (it has no token for these characters, and no unknown, byte-fallback or beginning-of-text token)";

export async function* generate(
  decoder: Decoder,
  tokenizer: GenerationTokenizer,
  o: GenerateOptions,
): AsyncGenerator<TokenEvent, GenerationSummary> {
  const L = decoder.runner.layers;
  const sampler = new Sampler(o.sampling);
  const text = tokenizer.createStreamDecoder();
  const stops = new StopStringFilter(o.stop ?? []);
  const recent = [...o.promptIds.slice(-64)];
  let produced = 0;
  let layerSum = 0;
  let output = "";
  let stopReason: StopReason = "max_tokens";

  // Say why, rather than the decoder's "prefill needs at least one token": a tokenizer without a
  // token for these characters (and no unknown, byte-fallback or BOS token) encodes text to nothing.
  if (o.promptIds.length === 0) throw new Error(NO_TOKENS);
  // Compiled before the prompt is read, so a grammar that fails costs no prefill.
  const constraint = o.constraint ? await o.constraint() : null;
  const t0 = performance.now();
  let logits: Float32Array;
  try {
    logits = await decoder.prefill(o.promptIds, o.signal);
  } catch (err) {
    constraint?.dispose();
    if (err instanceof ContextFullError)
      throw new ContextFullError(
        `prompt of ${o.promptIds.length} tokens does not fit the ${decoder.runner.maxPositions}-token context`,
      );
    // Stopped while still reading the prompt: an answer with no tokens, stopped like any other
    // (not an error; the decode loop below treats a stop between tokens the same way).
    if (err instanceof CancelledError) {
      return {
        type: "done",
        tokens: 0,
        promptTokens: o.promptIds.length,
        prefillTokensPerSecond: 0,
        decodeTokensPerSecond: 0,
        timeToFirstTokenMs: 0,
        meanExitLayer: 0,
        layers: L,
        stopReason: "stopped",
        text: "",
        tail: "",
      };
    }
    throw err;
  }
  const prefillMs = performance.now() - t0;
  try {
    return yield* decode();
  } finally {
    constraint?.dispose();
  }

  async function* decode(): AsyncGenerator<TokenEvent, GenerationSummary> {
    let exitLayer = L;
    let exitInfo: TokenEvent["exit"];
    let stepMs = prefillMs;
    let decodeMs = 0;
    const speculator = o.speculation ? new Speculator(decoder, o.speculation) : null;
    const spec = { rounds: 0, accepted: 0, proposed: 0 };
    /** Tokens a speculative round has already produced (the decoder holds all but the last). */
    const ready: number[] = [];

    for (;;) {
      if (o.signal?.aborted) {
        stopReason = "stopped";
        break;
      }
      const sampleStart = performance.now();
      const fromRound = ready.length > 0;
      // A round's tokens were chosen under the constraint and already advanced it.
      if (!fromRound && constraint) {
        const maskStart = performance.now();
        await constraint.mask(logits);
        o.onMaskMs?.(performance.now() - maskStart);
      }
      const id = fromRound ? ready.shift()! : sampler.sample(logits, recent);
      if (!fromRound) constraint?.accept(id);
      if (!fromRound) stepMs += performance.now() - sampleStart;
      if (!o.ignoreEos && tokenizer.eosIds.has(id)) {
        stopReason = "eos";
        break;
      }
      produced++;
      layerSum += exitLayer;
      recent.push(id);
      if (recent.length > 256) recent.splice(0, recent.length - 64);
      const piece = stops.push(text.push(id));
      output += piece.text;
      yield {
        type: "token",
        id,
        text: piece.text,
        exitLayer,
        ms: stepMs,
        ...(exitInfo ? { exit: exitInfo } : {}),
      };
      if (piece.stopped) {
        stopReason = "stop_string";
        break;
      }
      // A constrained answer that took its end-of-text token is over, even with ignoreEos (the
      // grammar has no next mask; XGrammar aborts if asked for one). A round's tokens were all
      // taken by the constraint at once, so it is over only when none of them is left to yield.
      if (constraint?.ended && !ready.length) {
        stopReason = "eos";
        break;
      }
      if (produced >= o.maxTokens) break;
      if (decoder.length >= decoder.runner.maxPositions) {
        stopReason = "context_full";
        break;
      }
      if (ready.length) continue;
      const stepStart = performance.now();
      if (speculator) {
        try {
          const r = await speculator.round(id, sampler, recent, o.maxTokens - produced, o.signal, constraint);
          spec.rounds++;
          spec.accepted += r.accepted;
          spec.proposed += r.proposed;
          ready.push(...r.tokens);
        } catch (err) {
          if (err instanceof CancelledError) {
            stopReason = "stopped";
            break;
          }
          throw err;
        }
        const roundMs = performance.now() - stepStart;
        decodeMs += roundMs;
        // Each token of the round is charged its share of the round's time.
        stepMs = roundMs / ready.length;
        exitLayer = L;
        exitInfo = undefined;
        continue;
      }
      try {
        const strategy = o.exitStrategy?.();
        const r = await decoder.step(id, strategy, o.signal);
        logits = r.logits;
        exitLayer = r.exitLayer;
        const t = strategy ? o.takeTelemetry?.() : null;
        exitInfo = t
          ? {
              checkedLayers: t.checkedLayers,
              predictorMs: t.predictorMs,
              verifyMs: t.verifyMs,
              draftMs: t.draftMs,
            }
          : undefined;
      } catch (err) {
        if (err instanceof CancelledError) {
          stopReason = "stopped";
          break;
        }
        throw err;
      }
      stepMs = performance.now() - stepStart;
      decodeMs += stepMs;
    }
    // What the stop-string matcher still holds belongs to the answer unless a stop string ended it.
    const tail = stopReason === "stop_string" ? "" : stops.flush(text.flush());
    output += tail;
    const decodeSteps = Math.max(0, produced - 1);
    return {
      type: "done",
      tokens: produced,
      promptTokens: o.promptIds.length,
      prefillTokensPerSecond: o.promptIds.length / (prefillMs / 1000),
      decodeTokensPerSecond: decodeSteps > 0 ? decodeSteps / (decodeMs / 1000) : 0,
      timeToFirstTokenMs: prefillMs,
      meanExitLayer: produced ? layerSum / produced : 0,
      layers: L,
      stopReason,
      text: output,
      tail,
      ...(speculator ? { speculation: spec } : {}),
    };
  }
}
