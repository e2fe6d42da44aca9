// A tiny draft head (in the spirit of EAGLE, which SpecEE uses): from the previous token's exit
// hidden state and the current token's embedding it predicts the current token's final hidden
// state; the model's own final norm + LM head turn that into candidates. Trained during
// calibration with cross-entropy through the frozen head, in plain JS — which bounds it to models
// whose head is small enough to train against in seconds (checked by `draftHeadTrainable`).

import { seededRandom } from "../runtime/sampler.js";

export interface DraftHeadWeights {
  d: number;
  /** [d, 2d] row-major: ĥ = W · [rmsnorm(hPrev); emb] + b */
  w: number[];
  b: number[];
}

/** Multiply-adds of one training step, and the cap we accept (a few seconds of JS per epoch). */
export function draftHeadTrainable(d: number, vocab: number): boolean {
  return 3 * (2 * d * d + vocab * d) <= 2_000_000;
}

export class DraftHead {
  private readonly w: Float32Array;
  private readonly b: Float32Array;
  private readonly input: Float32Array;

  constructor(readonly weights: DraftHeadWeights) {
    this.w = Float32Array.from(weights.w);
    this.b = Float32Array.from(weights.b);
    this.input = new Float32Array(2 * weights.d);
  }

  /** The predicted final hidden state (pre-norm), to be fed through the model's head. */
  predict(hPrev: Float32Array, emb: Float32Array): Float32Array {
    const d = this.weights.d;
    buildInput(hPrev, emb, this.input);
    const out = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let s = this.b[i];
      const row = i * 2 * d;
      for (let j = 0; j < 2 * d; j++) s += this.w[row + j] * this.input[j];
      out[i] = s;
    }
    return out;
  }
}

function buildInput(hPrev: Float32Array, emb: Float32Array, out: Float32Array): void {
  const d = emb.length;
  let ss = 0;
  for (let j = 0; j < d; j++) ss += hPrev[j] * hPrev[j];
  const inv = 1 / Math.sqrt(ss / d + 1e-5);
  for (let j = 0; j < d; j++) {
    out[j] = hPrev[j] * inv;
    out[d + j] = emb[j];
  }
}

export interface DraftExample {
  hPrev: Float32Array;
  emb: Float32Array;
  target: number;
}

/**
 * Trains W, b so that softmax(head(finalNorm(W·x + b))) predicts `target`.
 * `head` is the dequantized LM head [vocab, d]; `norm` the final norm weights.
 */
export async function trainDraftHead(
  examples: DraftExample[],
  head: Float32Array,
  norm: Float32Array,
  eps: number,
  o: { epochs: number; learningRate: number; seed: number; afterEpoch?: () => Promise<void> },
): Promise<DraftHeadWeights> {
  const d = norm.length;
  const V = head.length / d;
  const n2 = 2 * d;
  const rand = seededRandom(o.seed);
  // Start near "copy the embedding": the current token's embedding is the best zero-shot guess
  // of where its hidden state goes.
  const w = new Float64Array(d * n2);
  for (let i = 0; i < d; i++) {
    w[i * n2 + d + i] = 1;
    for (let j = 0; j < n2; j++) w[i * n2 + j] += (rand() - 0.5) * 0.01;
  }
  const b = new Float64Array(d);
  const mw = new Float64Array(w.length);
  const vw = new Float64Array(w.length);
  const mb = new Float64Array(d);
  const vb = new Float64Array(d);
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(d);
  const x = new Float32Array(n2);
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
        const ex = examples[order[e]];
        buildInput(ex.hPrev, ex.emb, x);
        // forward: h = Wx + b; z = rmsnorm(h) * norm; logits = head · z
        let ss = 0;
        for (let i = 0; i < d; i++) {
          let s = b[i];
          for (let j = 0; j < n2; j++) s += w[i * n2 + j] * x[j];
          h[i] = s;
          ss += s * s;
        }
        const r = 1 / Math.sqrt(ss / d + eps);
        for (let i = 0; i < d; i++) z[i] = h[i] * r * norm[i];
        let max = -Infinity;
        for (let v = 0; v < V; v++) {
          let s = 0;
          for (let i = 0; i < d; i++) s += head[v * d + i] * z[i];
          logits[v] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let v = 0; v < V; v++) sum += logits[v] = Math.exp(logits[v] - max);
        // backward: dlogits = softmax - onehot
        dz.fill(0);
        for (let v = 0; v < V; v++) {
          const g = logits[v] / sum - (v === ex.target ? 1 : 0);
          if (Math.abs(g) < 1e-7) continue;
          for (let i = 0; i < d; i++) dz[i] += g * head[v * d + i];
        }
        // through z = h * r * norm (r depends on h)
        let dot = 0;
        for (let i = 0; i < d; i++) dot += dz[i] * norm[i] * h[i];
        for (let i = 0; i < d; i++) dh[i] = r * (dz[i] * norm[i] - (h[i] * r * r * dot) / d);
        for (let i = 0; i < d; i++) {
          gb[i] += dh[i];
          for (let j = 0; j < n2; j++) gw[i * n2 + j] += dh[i] * x[j];
        }
      }
      step++;
      const scale = 1 / (end - start);
      adam(w, gw, mw, vw, scale, step, o.learningRate);
      adam(b, gb, mb, vb, scale, step, o.learningRate);
    }
    await o.afterEpoch?.();
  }
  return { d, w: Array.from(w, (v) => Math.round(v * 1e6) / 1e6), b: Array.from(b, (v) => Math.round(v * 1e6) / 1e6) };
}

function adam(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, scale: number, step: number, lr: number): void {
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = 0.9 * m[i] + 0.1 * gi;
    v[i] = 0.999 * v[i] + 0.001 * gi * gi;
    p[i] -= (lr * (m[i] / (1 - 0.9 ** step))) / (Math.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8);
  }
}
