// A tiny draft head (in the spirit of EAGLE, which SpecEE uses): from the previous token's exit
// hidden state and the current token's embedding it predicts the current token's final hidden
// state; the model's own final norm + LM head turn that into candidates. Trained during
// calibration through the frozen head (see head-adapter.ts), so only for models whose head is
// small enough (`draftHeadTrainable`).

import { Affine, adapterTrainable, trainAdapter, type AffineWeights } from "./head-adapter.js";

/** [d, 2d] row-major: ĥ = W · [rmsnorm(hPrev); emb] + b */
export type DraftHeadWeights = AffineWeights;

export function draftHeadTrainable(d: number, vocab: number): boolean {
  return adapterTrainable(2 * d, d, vocab);
}

export class DraftHead {
  private readonly affine: Affine;
  private readonly input: Float32Array;

  constructor(readonly weights: DraftHeadWeights) {
    this.affine = new Affine(weights);
    this.input = new Float32Array(2 * weights.d);
  }

  /** The predicted final hidden state (pre-norm), to be fed through the model's head. */
  predict(hPrev: Float32Array, emb: Float32Array): Float32Array {
    return this.affine.apply(buildInput(hPrev, emb, this.input));
  }
}

function buildInput(hPrev: Float32Array, emb: Float32Array, out: Float32Array): Float32Array {
  const d = emb.length;
  let ss = 0;
  for (let j = 0; j < d; j++) ss += hPrev[j] * hPrev[j];
  const inv = 1 / Math.sqrt(ss / d + 1e-5);
  for (let j = 0; j < d; j++) {
    out[j] = hPrev[j] * inv;
    out[d + j] = emb[j];
  }
  return out;
}

export interface DraftExample {
  hPrev: Float32Array;
  emb: Float32Array;
  target: number;
}

/** Trains the draft head with cross-entropy against each example's final token. */
export function trainDraftHead(
  examples: DraftExample[],
  head: Float32Array,
  norm: Float32Array,
  eps: number,
  o: { epochs: number; learningRate: number; seed: number; afterEpoch?: () => Promise<void> },
): Promise<DraftHeadWeights> {
  const d = norm.length;
  const data = examples.map((e) => ({ x: buildInput(e.hPrev, e.emb, new Float32Array(2 * d)), target: e.target }));
  // Start near "copy the embedding": the current token's embedding is the best zero-shot guess
  // of where its hidden state goes.
  const init = (w: Float64Array, rows: number, inputs: number) => {
    for (let i = 0; i < rows; i++) w[i * inputs + rows + i] = 1;
  };
  return trainAdapter(data, head, norm, eps, { ...o, init });
}
