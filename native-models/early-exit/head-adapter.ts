// A small affine map trained *through the model's frozen final norm and LM head*: the draft head
// (previous hidden + embedding -> final hidden) and the per-layer exit heads (a layer's hidden
// state -> what the last layer would make of it, a "tuned lens") are both this. Plain JS with
// cross-entropy and Adam, which bounds it to models whose head is small enough to train against in
// seconds (`adapterTrainable`).

import { seededRandom } from "../runtime/sampler.js";

export interface AffineWeights {
  /** Output size (the model's hidden size). */
  d: number;
  /** [d, inputs] row-major: y = W·x + b */
  w: number[];
  b: number[];
}

/** Multiply-adds of one training example, and the cap we accept (a few seconds of JS per epoch). */
export function adapterTrainable(inputs: number, d: number, vocab: number): boolean {
  return 3 * (inputs * d + vocab * d) <= 2_000_000;
}

/** y = W·x + b, evaluated in JS (d·inputs multiply-adds: microseconds at the sizes we train). */
export class Affine {
  readonly inputs: number;
  private readonly w: Float32Array;
  private readonly b: Float32Array;

  constructor(readonly weights: AffineWeights) {
    this.w = Float32Array.from(weights.w);
    this.b = Float32Array.from(weights.b);
    this.inputs = this.w.length / weights.d;
  }

  apply(x: ArrayLike<number>, out = new Float32Array(this.weights.d)): Float32Array {
    const n = this.inputs;
    for (let i = 0; i < this.weights.d; i++) {
      let s = this.b[i];
      const row = i * n;
      for (let j = 0; j < n; j++) s += this.w[row + j] * x[j];
      out[i] = s;
    }
    return out;
  }
}

export interface AdapterExample {
  x: Float32Array;
  /** The token to predict, or a whole target distribution over the vocabulary (soft labels). */
  target: number | Float32Array;
}

export interface AdapterTrainOptions {
  epochs: number;
  learningRate: number;
  seed: number;
  /** Starting weights (row-major [d, inputs]); small noise is added. */
  init: (w: Float64Array, d: number, inputs: number) => void;
  afterEpoch?: () => Promise<void>;
}

/**
 * Trains W, b so that softmax(head · finalNorm(W·x + b)) predicts each example's target.
 * `head` is the dequantized LM head [vocab, d]; `norm` the final norm weights.
 */
export async function trainAdapter(examples: AdapterExample[], head: Float32Array, norm: Float32Array, eps: number, o: AdapterTrainOptions): Promise<AffineWeights> {
  const d = norm.length;
  const V = head.length / d;
  const n = examples[0]?.x.length ?? d;
  const rand = seededRandom(o.seed);
  const w = new Float64Array(d * n);
  o.init(w, d, n);
  for (let i = 0; i < w.length; i++) w[i] += (rand() - 0.5) * 0.01;
  const b = new Float64Array(d);
  const mw = new Float64Array(w.length);
  const vw = new Float64Array(w.length);
  const mb = new Float64Array(d);
  const vb = new Float64Array(d);
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(d);
  const h = new Float64Array(d);
  const z = new Float64Array(d);
  const logits = new Float64Array(V);
  const dz = new Float64Array(d);
  const dh = new Float64Array(d);
  const order = examples.map((_, i) => i);
  const batch = 32;
  let step = 0;

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < order.length; start += batch) {
      gw.fill(0);
      gb.fill(0);
      const end = Math.min(order.length, start + batch);
      for (let e = start; e < end; e++) {
        const { x, target } = examples[order[e]];
        // forward: h = Wx + b; z = rmsnorm(h) * norm; logits = head · z
        let ss = 0;
        for (let i = 0; i < d; i++) {
          let s = b[i];
          const row = i * n;
          for (let j = 0; j < n; j++) s += w[row + j] * x[j];
          h[i] = s;
          ss += s * s;
        }
        const r = 1 / Math.sqrt(ss / d + eps);
        for (let i = 0; i < d; i++) z[i] = h[i] * r * norm[i];
        let max = -Infinity;
        for (let v = 0; v < V; v++) {
          let s = 0;
          const row = v * d;
          for (let i = 0; i < d; i++) s += head[row + i] * z[i];
          logits[v] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let v = 0; v < V; v++) sum += logits[v] = Math.exp(logits[v] - max);
        // backward: dlogits = softmax - target
        dz.fill(0);
        for (let v = 0; v < V; v++) {
          const g = logits[v] / sum - (typeof target === "number" ? (v === target ? 1 : 0) : target[v]);
          if (Math.abs(g) < 1e-7) continue;
          const row = v * d;
          for (let i = 0; i < d; i++) dz[i] += g * head[row + i];
        }
        // through z = h * r * norm (r depends on h)
        let dot = 0;
        for (let i = 0; i < d; i++) dot += dz[i] * norm[i] * h[i];
        for (let i = 0; i < d; i++) dh[i] = r * (dz[i] * norm[i] - (h[i] * r * r * dot) / d);
        for (let i = 0; i < d; i++) {
          gb[i] += dh[i];
          const row = i * n;
          for (let j = 0; j < n; j++) gw[row + j] += dh[i] * x[j];
        }
      }
      step++;
      const scale = 1 / (end - start);
      adam(w, gw, mw, vw, scale, step, o.learningRate);
      adam(b, gb, mb, vb, scale, step, o.learningRate);
    }
    await o.afterEpoch?.();
  }
  return { d, w: Array.from(w, round6), b: Array.from(b, round6) };
}

function adam(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, scale: number, step: number, lr: number): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = 0.9 * m[i] + 0.1 * gi;
    v[i] = 0.999 * v[i] + 0.001 * gi * gi;
    p[i] -= (lr * (m[i] / (1 - 0.9 ** step))) / (Math.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8);
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
