// The per-layer exit predictor: a tiny MLP (features -> hidden ReLU -> 1, sigmoid), as in SpecEE
// (12 -> 512 -> 1 there; smaller measures as good here). Evaluated in plain JS: a few hundred
// multiply-adds cost far less than an onnxruntime call.

import { seededRandom } from "../runtime/sampler.js";

export interface PredictorWeights {
  inputs: number;
  hidden: number;
  /** [hidden, inputs] row-major */
  w1: number[];
  b1: number[];
  w2: number[];
  b2: number;
  /** Feature standardisation learned on the calibration data. */
  mean: number[];
  std: number[];
}

export class Predictor {
  private readonly w1: Float32Array;
  private readonly b1: Float32Array;
  private readonly w2: Float32Array;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  private readonly h: Float32Array;

  constructor(readonly weights: PredictorWeights) {
    this.w1 = Float32Array.from(weights.w1);
    this.b1 = Float32Array.from(weights.b1);
    this.w2 = Float32Array.from(weights.w2);
    this.mean = Float32Array.from(weights.mean);
    this.invStd = Float32Array.from(weights.std, (s) => 1 / (s || 1));
    this.h = new Float32Array(weights.hidden);
  }

  /** Probability that exiting here gives the full-depth token. */
  predict(features: ArrayLike<number>): number {
    const { inputs, hidden } = this.weights;
    let out = this.weights.b2;
    for (let j = 0; j < hidden; j++) {
      let s = this.b1[j];
      const row = j * inputs;
      for (let i = 0; i < inputs; i++) s += this.w1[row + i] * (features[i] - this.mean[i]) * this.invStd[i];
      if (s > 0) out += this.w2[j] * s;
    }
    return 1 / (1 + Math.exp(-out));
  }
}

export interface TrainOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** Weight of positive examples (exits are rarer than continues in early layers). */
  positiveWeight?: number;
  /** Called between epochs (the caller yields to its event loop and checks for cancel there). */
  afterEpoch?: () => Promise<void>;
}

/** Trains one predictor with binary cross-entropy and Adam (mini-batches of 64). */
export async function trainPredictor(x: Float32Array[], y: Uint8Array, o: TrainOptions): Promise<PredictorWeights> {
  const n = x.length;
  const inputs = x[0]?.length ?? 0;
  const H = o.hidden;
  const mean = new Array<number>(inputs).fill(0);
  const std = new Array<number>(inputs).fill(0);
  for (const f of x) for (let i = 0; i < inputs; i++) mean[i] += f[i] / n;
  for (const f of x) for (let i = 0; i < inputs; i++) std[i] += (f[i] - mean[i]) ** 2 / n;
  for (let i = 0; i < inputs; i++) std[i] = Math.sqrt(std[i]) || 1;

  const rand = seededRandom(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const params = {
    w1: Float64Array.from({ length: H * inputs }, () => gauss() * Math.sqrt(2 / inputs)),
    b1: new Float64Array(H),
    w2: Float64Array.from({ length: H }, () => gauss() * Math.sqrt(1 / H)),
    b2: new Float64Array(1),
  };
  const adam = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { m: new Float64Array(v.length), v: new Float64Array(v.length) }]));
  const grads = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float64Array(v.length)]));
  const xs = x.map((f) => Float64Array.from(f, (v, i) => (v - mean[i]) / std[i]));
  const pos = o.positiveWeight ?? 1;
  const h = new Float64Array(H);
  const order = Array.from({ length: n }, (_, i) => i);
  let step = 0;
  const batch = 64;

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < n; start += batch) {
      for (const g of Object.values(grads)) g.fill(0);
      const end = Math.min(n, start + batch);
      for (let b = start; b < end; b++) {
        const f = xs[order[b]];
        const target = y[order[b]];
        let out = params.b2[0];
        for (let j = 0; j < H; j++) {
          let s = params.b1[j];
          for (let i = 0; i < inputs; i++) s += params.w1[j * inputs + i] * f[i];
          h[j] = s > 0 ? s : 0;
          out += params.w2[j] * h[j];
        }
        const p = 1 / (1 + Math.exp(-out));
        const weight = target ? pos : 1;
        const dOut = (p - target) * weight;
        grads.b2[0] += dOut;
        for (let j = 0; j < H; j++) {
          grads.w2[j] += dOut * h[j];
          if (h[j] <= 0) continue;
          const dh = dOut * params.w2[j];
          grads.b1[j] += dh;
          for (let i = 0; i < inputs; i++) grads.w1[j * inputs + i] += dh * f[i];
        }
      }
      step++;
      const scale = 1 / (end - start);
      for (const [k, p] of Object.entries(params)) {
        const g = grads[k];
        const s = adam[k];
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] * scale;
          s.m[i] = 0.9 * s.m[i] + 0.1 * gi;
          s.v[i] = 0.999 * s.v[i] + 0.001 * gi * gi;
          const mHat = s.m[i] / (1 - 0.9 ** step);
          const vHat = s.v[i] / (1 - 0.999 ** step);
          p[i] -= (o.learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
        }
      }
    }
    await o.afterEpoch?.();
  }
  return {
    inputs,
    hidden: H,
    w1: Array.from(params.w1, round6),
    b1: Array.from(params.b1, round6),
    w2: Array.from(params.w2, round6),
    b2: round6(params.b2[0]),
    mean: mean.map(round6),
    std: std.map(round6),
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
