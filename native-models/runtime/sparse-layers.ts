// The FFNs of a model run in the native sparse kernel (CATS: neurons with |SiLU(gate)| below the
// layer's threshold are skipped, and their up/down weights never read). The attention half of each
// layer stays on onnxruntime. The sparsity level can change between any two tokens.
import path from "node:path";
import type { Manifest } from "../package/manifest.js";
import { loadSparseKernel, type SparseFfn } from "../sparse/index.js";

export class SparseUnavailableError extends Error {
  override readonly name = "SparseUnavailableError";
}

export class SparseLayers {
  /** Current per-layer thresholds (0 = dense). */
  private thresholds: number[];
  private level = 0;
  private readonly rowOut: Float32Array;
  /** Neurons computed / offered in single-token (decode) rows, for telemetry. */
  active = 0;
  offered = 0;
  /** When set, every decode row's SiLU(gate) values are handed to it (threshold calibration). */
  recorder: ((layer: number, activations: Float32Array) => void) | null = null;
  private readonly acts: Float32Array;

  private constructor(
    private readonly ffns: SparseFfn[],
    private thresholdTable: { levels: number[]; byLayer: number[][]; agreement?: number[] } | undefined,
    private readonly d: number,
    readonly ffnSize: number,
  ) {
    this.thresholds = ffns.map(() => 0);
    this.rowOut = new Float32Array(d);
    this.acts = new Float32Array(ffnSize);
  }

  static open(dir: string, m: Manifest, threads: number): SparseLayers {
    if (!m.sparse || m.graphs.attention.length !== m.config.numLayers) {
      throw new SparseUnavailableError(`model ${m.id} has no sparse FFN form (it was imported without the native kernel)`);
    }
    const kernel = loadSparseKernel();
    if (!kernel.available) throw new SparseUnavailableError(kernel.detail);
    const ffns = m.sparse.ffn.map((f) => kernel.loadFfn(path.join(dir, f), { threads }));
    return new SparseLayers(ffns, m.sparse.thresholds, m.config.hiddenSize, m.config.intermediateSize);
  }

  get table(): { levels: number[]; byLayer: number[][]; agreement?: number[] } | undefined {
    return this.thresholdTable;
  }

  get calibrated(): boolean {
    return !!this.thresholdTable;
  }

  get layers(): number {
    return this.ffns.length;
  }

  /** Installs calibrated thresholds (after calibrateSparsity). */
  setTable(table: { levels: number[]; byLayer: number[][] }): void {
    this.thresholdTable = table;
    this.setSparsity(this.level);
  }

  get sparsity(): number {
    return this.level;
  }

  /** Target share of skipped neurons, 0..1 (0 = dense); interpolated on the calibrated grid. */
  setSparsity(level: number): void {
    this.level = Math.min(1, Math.max(0, level));
    if (this.level === 0 || !this.thresholdTable) {
      this.thresholds = this.ffns.map(() => 0);
      return;
    }
    const { levels, byLayer } = this.thresholdTable;
    this.thresholds = byLayer.map((row) => interpolate(levels, row, this.level));
  }

  /** out[s] += FFN(x[s]) for each of the S rows; single-token decode uses the sparse thresholds. */
  addFfn(layer: number, x: Float32Array, out: Float32Array, S: number): void {
    const ffn = this.ffns[layer];
    const threshold = S === 1 ? this.thresholds[layer] : 0;
    const d = this.d;
    for (let s = 0; s < S; s++) {
      const r = this.recorder
        ? ffn.run(x.subarray(s * d, (s + 1) * d), this.rowOut, threshold, this.acts)
        : ffn.run(x.subarray(s * d, (s + 1) * d), this.rowOut, threshold);
      if (this.recorder) this.recorder(layer, this.acts);
      if (S === 1) {
        this.active += r.active;
        this.offered += this.ffnSize;
      }
      for (let j = 0; j < d; j++) out[s * d + j] += this.rowOut[j];
    }
  }

  close(): void {
    for (const f of this.ffns) f.close();
  }
}

function interpolate(xs: number[], ys: number[], x: number): number {
  if (x <= xs[0]) return ys[0] * (x / xs[0]);
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) return ys[i - 1] + ((x - xs[i - 1]) / (xs[i] - xs[i - 1])) * (ys[i] - ys[i - 1]);
  }
  return ys[ys.length - 1];
}
