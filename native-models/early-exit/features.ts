// SpecEE's predictor features at one layer: the final norm applied to the hidden state, times only
// the k candidate rows of the LM head -> k logits; their local softmax; and how those probabilities
// changed since the previous checked layer. 3k numbers for k candidates (12 for k = 4).
import type { MatrixRows } from "../runtime/stored-matrix.js";

export class ReducedHead {
  private readonly rows: Float32Array;
  private readonly logits: Float32Array;
  private readonly probs: Float32Array;
  private readonly previous: Float32Array;
  private hasPrevious = false;
  readonly features: Float32Array;

  constructor(
    private readonly lmHead: MatrixRows,
    private readonly finalNorm: Float32Array,
    private readonly eps: number,
    readonly k: number,
  ) {
    const d = finalNorm.length;
    this.rows = new Float32Array(k * d);
    this.logits = new Float32Array(k);
    this.probs = new Float32Array(k);
    this.previous = new Float32Array(k);
    this.features = new Float32Array(3 * k);
  }

  /** Loads the candidates' LM-head rows (pre-multiplied by the final norm's weights) for this token. */
  setCandidates(ids: readonly number[]): void {
    const d = this.finalNorm.length;
    this.rows.fill(0);
    for (let c = 0; c < Math.min(this.k, ids.length); c++) {
      this.lmHead.row(ids[c], this.rows, c * d);
      for (let j = 0; j < d; j++) this.rows[c * d + j] *= this.finalNorm[j];
    }
    this.hasPrevious = false;
  }

  /** Computes the features for `hidden` (one token, d values); returns them (reused buffer). */
  compute(hidden: Float32Array): Float32Array {
    const d = this.finalNorm.length;
    let ss = 0;
    for (let j = 0; j < d; j++) ss += hidden[j] * hidden[j];
    const inv = 1 / Math.sqrt(ss / d + this.eps);
    let max = -Infinity;
    for (let c = 0; c < this.k; c++) {
      let dot = 0;
      const base = c * d;
      for (let j = 0; j < d; j++) dot += hidden[j] * this.rows[base + j];
      this.logits[c] = dot * inv;
      if (this.logits[c] > max) max = this.logits[c];
    }
    let sum = 0;
    for (let c = 0; c < this.k; c++) sum += (this.probs[c] = Math.exp(this.logits[c] - max));
    const f = this.features;
    for (let c = 0; c < this.k; c++) {
      this.probs[c] /= sum;
      f[c] = this.logits[c];
      f[this.k + c] = this.probs[c];
      f[2 * this.k + c] = this.hasPrevious ? this.probs[c] - this.previous[c] : 0;
    }
    this.previous.set(this.probs);
    this.hasPrevious = true;
    return f;
  }
}
