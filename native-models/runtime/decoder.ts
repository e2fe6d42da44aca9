// Tokens through the layers: chunked prefill at full depth (with reuse of a cached common prefix),
// and decode steps with a hook after every layer where an early-exit strategy may stop.
//
// A token may also be left *pending*: appended to the sequence with only its first layers run.
// That happens when a token exits early with exact K/V ("deferred": its deeper layers run later,
// batched with the next tokens, so every later token attends to exactly what full depth would
// have given it), and when tokens are drafted for lossless speculative decoding (`draft`, then
// `complete` runs every pending token to the last layer in one batched pass and returns their
// final hidden states for verification; `truncate` drops rejected drafts).
//
// A pending token joins a later pass at the layer where it stopped. Pending tokens are kept in
// position order with non-increasing progress, so at every layer the rows of a pass are the last
// positions of that layer's cache and the causal order of the KV cache is preserved.
import { throwIfAborted } from "../formats/cancel.js";
import type { ModelRunner } from "./model-runner.js";

export const PREFILL_CHUNK = 128;

/** What happens after each layer of a decode step. The full-depth decoder has none. */
export interface ExitStrategy {
  /**
   * Called before the first layer of each decode token, with the tokens before it and the hidden
   * state the previous token left (its exit layer's output), for candidate sources that need them.
   */
  beginToken?(
    tokenId: number,
    position: number,
    history: readonly number[],
    previousHidden: Float32Array | null,
  ): Promise<void> | void;
  /**
   * Called after layer `layer` (0-based) of the token at `position`, with its state (valid only
   * during the call: the decoder reuses the array for a later layer); returns logits to exit there
   * (a plain value where it decides at once: most layers are not checked, and a promise per
   * layer costs a measurable share of a small model's layer).
   */
  afterLayer(
    layer: number,
    hidden: Float32Array,
    position: number,
  ): Promise<Float32Array | null> | Float32Array | null;
  /**
   * K/V of the layers a token skipped: absent ("masked", SpecEE), or computed exactly by running
   * them later, batched with the following tokens ("deferred").
   */
  readonly kvMode: KvMode;
}

export type KvMode = "masked" | "deferred";

export interface StepResult {
  /**
   * The token's logits: an array the decoder (or, for an early exit, the exit strategy) fills
   * again on the next step. Read it before then, or copy it.
   */
  logits: Float32Array;
  /** Decoder layers executed for this token, 1..L. */
  exitLayer: number;
  hidden: Float32Array;
}

interface Pending {
  position: number;
  /** Output of the token's last layer run so far. */
  hidden: Float32Array;
  /** Layers run so far (0 = only embedded). */
  layers: number;
}

export class Decoder {
  /** Token ids whose K/V are (or, while pending, are being) cached, in position order. */
  private sequence: number[] = [];
  /** Output hidden state of the last token run (its exit layer's), for draft candidates. */
  private lastHidden: Float32Array | null = null;
  private pending: Pending[] = [];
  private layerBuffers = [new Float32Array(0), new Float32Array(0)];
  private logitsBuffer: Float32Array | null = null;
  private gathered = new Float32Array(0);

  constructor(readonly runner: ModelRunner) {}

  get length(): number {
    return this.sequence.length;
  }

  get tokens(): readonly number[] {
    return this.sequence;
  }

  /** Tokens whose deeper layers have not run yet. */
  get pendingCount(): number {
    return this.pending.length;
  }

  reset(): void {
    this.sequence = [];
    this.lastHidden = null;
    this.pending = [];
    this.runner.cache.clear();
  }

  /**
   * Makes the cache hold exactly `ids` and returns the logits after the last one. A common prefix
   * with what is already cached is kept; the rest runs at full depth in chunks. In the native
   * kernels a chunk gives exactly what one-token steps give; where prefill runs on onnxruntime,
   * its attention rounds a one-row chunk slightly differently from a longer one, so a reused
   * prefix can move a near-tie of the first answer token.
   */
  async prefill(ids: readonly number[], signal?: AbortSignal, chunk = PREFILL_CHUNK): Promise<Float32Array> {
    if (ids.length === 0) throw new Error("prefill needs at least one token");
    let keep = 0;
    while (keep < this.sequence.length && keep < ids.length - 1 && this.sequence[keep] === ids[keep]) keep++;
    this.truncate(keep);
    await this.complete(signal);
    let logits: Float32Array | undefined;
    // Each layer's rows go into one of two buffers in turn (the other holds its input).
    const d = this.runner.config.hiddenSize;
    const buffers = [0, 1].map(() => new Float32Array(Math.min(chunk, ids.length - keep) * d));
    for (let start = keep; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      const positions = part.map((_, i) => start + i);
      try {
        let h = this.runner.embed(part);
        for (let l = 0; l < this.runner.layers; l++) {
          throwIfAborted(signal);
          h = await this.runner.layer(l, h, positions, false, buffers[l % 2].subarray(0, part.length * d));
        }
        if (start + chunk >= ids.length) {
          logits = await this.runner.logits(h, 1);
          this.lastHidden = h.slice(h.length - d);
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
      const begun = exit?.beginToken?.(tokenId, position, this.sequence, this.lastHidden);
      if (begun) await begun;
      this.sequence.push(tokenId);
      const cur: Pending = { position, hidden: this.runner.embed([tokenId]), layers: 0 };
      // Only the state the token leaves with outlives the step: where the token runs a layer
      // alone, the layers before the last alternate two buffers (no garbage array per layer and
      // token), and an early exit copies its state out of them.
      const scratch = this.alternatingRows(1);
      for (let l = 0; l < L; l++) {
        throwIfAborted(signal);
        const pass = this.runLayer(l, cur, l < L - 1 ? scratch[l % 2] : undefined);
        if (pass) await pass;
        if (exit && l < L - 1) {
          const decided = exit.afterLayer(l, cur.hidden, position);
          const logits = decided instanceof Promise ? await decided : decided;
          if (logits) {
            if (cur.hidden.buffer === scratch[l % 2].buffer) cur.hidden = cur.hidden.slice();
            if (exit.kvMode === "deferred") this.pending.push(cur);
            this.lastHidden = cur.hidden;
            return { logits, exitLayer: l + 1, hidden: cur.hidden };
          }
        }
      }
      const logits = await this.runner.logits(cur.hidden, 1, this.stepLogits());
      this.lastHidden = cur.hidden;
      return { logits, exitLayer: L, hidden: cur.hidden };
    } catch (err) {
      this.truncate(position);
      throw err;
    }
  }

  /**
   * Appends `tokenId` and runs only its first `layers` layers (a draft through the shallow layers);
   * the token stays pending. Returns its hidden state after those layers.
   */
  async draft(tokenId: number, layers: number, signal?: AbortSignal): Promise<Float32Array> {
    const position = this.sequence.length;
    this.sequence.push(tokenId);
    const cur: Pending = { position, hidden: this.runner.embed([tokenId]), layers: 0 };
    try {
      for (let l = 0; l < layers; l++) {
        throwIfAborted(signal);
        const pass = this.runLayer(l, cur);
        if (pass) await pass;
      }
    } catch (err) {
      this.truncate(position);
      throw err;
    }
    if (cur.layers < this.runner.layers) this.pending.push(cur);
    this.lastHidden = cur.hidden;
    return cur.hidden;
  }

  /** Appends tokens without running any layer (drafts from text lookup); `complete` runs them. */
  appendUnprocessed(ids: readonly number[]): void {
    for (const id of ids) {
      const position = this.sequence.length;
      this.sequence.push(id);
      this.pending.push({ position, hidden: this.runner.embed([id]), layers: 0 });
    }
  }

  /**
   * Runs every pending token through its remaining layers, batched layer by layer, and returns
   * their positions and final hidden states ([n, d], position order).
   */
  async complete(signal?: AbortSignal): Promise<{ positions: number[]; hidden: Float32Array }> {
    const L = this.runner.layers;
    const d = this.runner.config.hiddenSize;
    const done = [...this.pending];
    if (!done.length) return { positions: [], hidden: new Float32Array(0) };
    const from = Math.min(...done.map((p) => p.layers));
    // Every row a layer runs here runs every later layer too, and each layer's input is gathered
    // (copied) before its output is written: the layers alternate two decoder-owned buffers.
    const n = done.length * d;
    const buffers = this.alternatingRows(done.length);
    try {
      for (let l = from; l < L; l++) {
        throwIfAborted(signal);
        const pass = this.runLayer(l, null, buffers[l % 2]);
        if (pass) await pass;
      }
    } catch (err) {
      this.truncate(done[0].position);
      throw err;
    }
    const hidden = new Float32Array(n);
    done.forEach((p, i) => hidden.set(p.hidden, i * d));
    // The rows' states point into those buffers: what outlives this call is copied out.
    this.lastHidden = hidden.slice(n - d);
    return { positions: done.map((p) => p.position), hidden };
  }

  /** Full-depth logits for every position of `ids` (teacher forcing), starting from an empty cache. */
  async allLogits(ids: readonly number[], chunk = PREFILL_CHUNK): Promise<Float32Array> {
    this.reset();
    const V = this.runner.config.vocabSize;
    const out = new Float32Array(ids.length * V);
    for (let start = 0; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      let h = this.runner.embed(part);
      for (let l = 0; l < this.runner.layers; l++)
        h = await this.runner.layer(
          l,
          h,
          part.map((_, i) => start + i),
        );
      out.set(await this.runner.logits(h, part.length), start * V);
      this.sequence.push(...part);
      this.lastHidden = h.slice(h.length - this.runner.config.hiddenSize);
    }
    return out;
  }

  /** Forgets every token at position ≥ `length` (rejected drafts, or to reuse a common prefix). */
  truncate(length: number): void {
    if (length < this.sequence.length) this.lastHidden = null;
    this.sequence.length = Math.min(this.sequence.length, length);
    this.pending = this.pending.filter((p) => p.position < length);
    this.runner.cache.truncate(length);
  }

  /**
   * Two decoder-owned buffers of `rows` hidden states that consecutive layers alternate (`step`
   * for its token, `complete` for its rows; never both at once), grown as needed.
   */
  private alternatingRows(rows: number): [Float32Array, Float32Array] {
    const n = rows * this.runner.config.hiddenSize;
    if (this.layerBuffers[0].length < n) this.layerBuffers = [new Float32Array(n), new Float32Array(n)];
    return [this.layerBuffers[0].subarray(0, n), this.layerBuffers[1].subarray(0, n)];
  }

  /** The logits buffer full-depth steps fill (StepResult.logits). */
  private stepLogits(): Float32Array {
    this.logitsBuffer ??= new Float32Array(this.runner.config.vocabSize);
    return this.logitsBuffer;
  }

  /**
   * Layer `l` for the pending tokens that stopped just before it (a suffix of the pending list)
   * and, if given, the current token (the last position). Pending tokens that finish leave the list.
   * `out`: where the output goes: with `cur`, only when it runs alone; without, the front of it
   * (a fresh array where not given).
   */
  private runLayer(l: number, cur: Pending | null, out?: Float32Array): Promise<void> | undefined {
    const rows: Pending[] = [];
    for (let i = this.pending.length - 1; i >= 0 && this.pending[i].layers <= l; i--) {
      if (this.pending[i].layers === l) rows.unshift(this.pending[i]);
    }
    if (cur) rows.push(cur);
    if (!rows.length) return;
    const d = this.runner.config.hiddenSize;
    let input: Float32Array;
    if (rows.length === 1) input = rows[0].hidden;
    else {
      // The rows' inputs are gathered into one decoder-owned array (read only by this pass).
      if (this.gathered.length < rows.length * d) this.gathered = new Float32Array(rows.length * d);
      input = this.gathered.subarray(0, rows.length * d);
      rows.forEach((r, i) => input.set(r.hidden, i * d));
    }
    const positions = rows.map((r) => r.position);
    // Natively the layer runs at once, without a promise per layer (see ModelRunner.layerNow).
    // Rows that share a pass with `cur` are pending tokens, whose states outlive the step.
    const size = rows.length * d;
    const dest =
      out && (!cur || rows.length === 1) ? (out.length === size ? out : out.subarray(0, size)) : undefined;
    const now = this.runner.layerNow(l, input, positions, true, dest);
    if (now) return this.finishLayer(l, rows, now);
    return this.runner.layer(l, input, positions, true, dest).then((o) => this.finishLayer(l, rows, o));
  }

  private finishLayer(l: number, rows: Pending[], out: Float32Array): undefined {
    const d = this.runner.config.hiddenSize;
    rows.forEach((r, i) => {
      r.hidden = rows.length === 1 ? out : out.subarray(i * d, (i + 1) * d);
      r.layers = l + 1;
    });
    if (l === this.runner.layers - 1)
      this.pending = this.pending.filter((p) => p.layers < this.runner.layers);
    return undefined;
  }
}
