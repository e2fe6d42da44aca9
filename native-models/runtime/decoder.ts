// One token at a time through the layers, with a hook after every layer where an early-exit
// strategy may stop; plus chunked prefill at full depth and reuse of a cached common prefix.
import type { ModelRunner } from "./model-runner.js";

export const PREFILL_CHUNK = 128;

/** What happens after each layer of a decode step. The full-depth decoder has none. */
export interface ExitStrategy {
  /**
   * Called before the first layer of each decode token, with the tokens before it and the hidden
   * state the previous token left (its exit layer's output), for candidate sources that need them.
   */
  beginToken?(tokenId: number, position: number, history: readonly number[], previousHidden: Float32Array | null): Promise<void> | void;
  /** Called after layer `layer` (0-based) of the token at `position`; returns logits to exit there. */
  afterLayer(layer: number, hidden: Float32Array, position: number): Promise<Float32Array | null>;
  /** K/V of the layers a token skipped: absent ("masked", SpecEE) or computed from its exit state ("propagate", CALM). */
  readonly kvMode: "masked" | "propagate";
}

export interface StepResult {
  logits: Float32Array;
  /** Decoder layers executed for this token, 1..L. */
  exitLayer: number;
  hidden: Float32Array;
}

export class CancelledError extends Error {
  override readonly name = "CancelledError";
  constructor() {
    super("generation stopped");
  }
}

export class Decoder {
  /** Token ids whose K/V are in the cache, in position order. */
  private sequence: number[] = [];
  /** Output hidden state of the last token run (its exit layer's), for draft candidates. */
  private lastHidden: Float32Array | null = null;

  constructor(readonly runner: ModelRunner) {}

  get length(): number {
    return this.sequence.length;
  }

  get tokens(): readonly number[] {
    return this.sequence;
  }

  reset(): void {
    this.sequence = [];
    this.lastHidden = null;
    this.runner.cache.clear();
  }

  /**
   * Makes the cache hold exactly `ids` and returns the logits after the last one. A common prefix
   * with what is already cached is kept; the rest runs at full depth in chunks.
   */
  async prefill(ids: readonly number[], signal?: AbortSignal, chunk = PREFILL_CHUNK): Promise<Float32Array> {
    if (ids.length === 0) throw new Error("prefill needs at least one token");
    let keep = 0;
    while (keep < this.sequence.length && keep < ids.length - 1 && this.sequence[keep] === ids[keep]) keep++;
    this.truncate(keep);
    let logits: Float32Array | undefined;
    for (let start = keep; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      const positions = part.map((_, i) => start + i);
      try {
        let h = this.runner.embed(part);
        for (let l = 0; l < this.runner.layers; l++) {
          if (signal?.aborted) throw new CancelledError();
          h = await this.runner.layer(l, h, positions);
        }
        if (start + chunk >= ids.length) {
          logits = await this.runner.logits(h, 1);
          this.lastHidden = h.slice(h.length - this.runner.config.hiddenSize);
        }
      } catch (err) {
        this.truncate(start);
        throw err;
      }
      this.sequence.push(...part);
    }
    return logits!;
  }

  /** Runs one token (appended at the end of the sequence), exiting early when the strategy says so. */
  async step(tokenId: number, exit?: ExitStrategy, signal?: AbortSignal): Promise<StepResult> {
    const position = this.sequence.length;
    const L = this.runner.layers;
    try {
      await exit?.beginToken?.(tokenId, position, this.sequence, this.lastHidden);
      let h = this.runner.embed([tokenId]);
      for (let l = 0; l < L; l++) {
        if (signal?.aborted) throw new CancelledError();
        h = await this.runner.layer(l, h, [position], true);
        if (exit && l < L - 1) {
          const logits = await exit.afterLayer(l, h, position);
          if (logits) {
            if (exit.kvMode === "propagate") {
              for (let s = l + 1; s < L; s++) await this.runner.fillKv(s, h, [position]);
            }
            this.sequence.push(tokenId);
            this.lastHidden = h;
            return { logits, exitLayer: l + 1, hidden: h };
          }
        }
      }
      const logits = await this.runner.logits(h, 1);
      this.sequence.push(tokenId);
      this.lastHidden = h;
      return { logits, exitLayer: L, hidden: h };
    } catch (err) {
      this.truncate(position);
      throw err;
    }
  }

  /** Full-depth logits for every position of `ids` (teacher forcing), starting from an empty cache. */
  async allLogits(ids: readonly number[], chunk = PREFILL_CHUNK): Promise<Float32Array> {
    this.reset();
    const V = this.runner.config.vocabSize;
    const out = new Float32Array(ids.length * V);
    for (let start = 0; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      let h = this.runner.embed(part);
      for (let l = 0; l < this.runner.layers; l++) h = await this.runner.layer(l, h, part.map((_, i) => start + i));
      out.set(await this.runner.logits(h, part.length), start * V);
      this.sequence.push(...part);
      this.lastHidden = h.slice(h.length - this.runner.config.hiddenSize);
    }
    return out;
  }

  private truncate(length: number): void {
    if (length < this.sequence.length) this.lastHidden = null;
    this.sequence.length = Math.min(this.sequence.length, length);
    this.runner.cache.truncate(length);
  }
}
