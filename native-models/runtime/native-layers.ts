// The model's layers in the native kernels: every layer's FFN (CATS-sparse: neurons with
// |act(gate)| (SiLU, or Gemma's GELU) below the layer's threshold are skipped and their up/down
// weights never read), and, in packages that have them, the attention halves and the LM head, so
// a decode step never leaves native code inside a layer. Prefill keeps onnxruntime's attention graphs (batched GEMMs are its
// strength) with the FFN rows here. The sparsity level can change between any two tokens.
//
// Decode rows (a token, or a few tokens verified together) all take the same native path, and a
// row's numbers do not depend on how many rows share a call: batched verification reproduces
// one-token steps bit for bit (see addon/src/matrix.h).
import path from "node:path";
import type { KeptFileLayout } from "./kept-file-layout.js";
import type { Manifest } from "../package/manifest.js";
import { readFloats } from "./stored-matrix.js";
import {
  loadNativeKernels,
  type AvailableNativeKernels,
  type KvBuffer,
  type NativeAttention,
  type NativeLinear,
  type SparseFfn,
} from "../kernels/index.js";

/** Per-layer CATS thresholds for a grid of sparsity levels, with what calibration measured at them. */
export interface SparsityTable {
  levels: number[];
  byLayer: number[][];
  agreement?: (number | null)[];
  speedup?: (number | null)[];
}

export class NativeUnavailableError extends Error {
  override readonly name = "NativeUnavailableError";
}

/** How long the kernels' pool workers wait for the next call before they sleep. */
export const POOL_SPIN_MICROS = 100;

/** Rows one native call takes (the addon's kMaxRows). */
export const NATIVE_MAX_ROWS = 64;

export interface KvSlot {
  keyData: KvBuffer;
  valueData: KvBuffer;
  capacity: number;
  /** Slots filled before these rows. */
  cached: number;
}

export class NativeLayers {
  /** Current per-layer thresholds (0 = dense). */
  private thresholds: number[];
  private level = 0;
  private rowOut: Float32Array;
  /** Neurons computed / offered in decode rows, for telemetry. */
  active = 0;
  offered = 0;
  /** When set, every decode row's act(gate) values are handed to it (threshold calibration). */
  recorder: ((layer: number, activations: Float32Array) => void) | null = null;
  private readonly acts: Float32Array;
  private scratch = { ffnIn: new Float32Array(0) };

  private constructor(
    /**
     * Per layer: the FFN that sparse passes and activation recording use (its per-neuron rows), and
     * the one dense passes use (packed matrices where loaded; older packages pack their rows into
     * the same handle, and a model loaded without rows has only the packed one).
     */
    private readonly ffns: { sparse: SparseFfn | null; dense: SparseFfn }[],
    /**
     * Which FFN forms are in memory: the per-neuron rows (CATS-sparse passes, activation
     * recording) and/or the packed dense matrices (several rows share each weight load).
     */
    readonly ffnForms: { rows: boolean; packed: boolean },
    /** Native attention halves, when the package has them (decode then runs whole layers here). */
    private readonly attention: NativeAttention[] | null,
    /** The LM head with its final norm. */
    readonly head: NativeLinear | null,
    private thresholdTable: SparsityTable | undefined,
    private readonly d: number,
    readonly ffnSize: number,
    /** The kernel set in use (e.g. "avx512-vnni"). */
    readonly isa: string,
    /** Gemma 3: per-layer RMSNorm weights ([layers, d]) on each FFN output before the residual add. */
    private readonly postFfnNorms: Float32Array | null = null,
    private readonly eps = 1e-6,
  ) {
    this.thresholds = ffns.map(() => 0);
    this.rowOut = new Float32Array(d);
    this.acts = new Float32Array(ffnSize);
  }

  /**
   * `sparseRows`: keep the FFNs' per-neuron rows, which sparse passes and threshold calibration
   * need. Without them each FFN is packed dense and its rows freed: one copy of the weights, and
   * every dense pass (decode, verification, prefill) in the packed kernels. Narrow models keep
   * both forms (the packed one is faster there, and both are small).
   */
  static open(
    dir: string,
    m: Manifest,
    threads: number,
    o: { sparseRows: boolean; onProgress?: (fraction: number) => void; kept?: KeptFileLayout },
  ): NativeLayers {
    const L = m.config.numLayers;
    if (m.native?.kept && !o.kept) throw new Error(`model ${m.id} keeps its GGUF: open it with its layout`);
    const nativeAttention = m.native?.attention?.length === L || !!o.kept;
    if (!m.native || (!nativeAttention && m.graphs.attention.length !== L)) {
      throw new NativeUnavailableError(
        `model ${m.id} has no native form (it was imported without the native kernel)`,
      );
    }
    // Gemma's norm on the FFN output lives beside the FFN files; without it the layers would be wrong.
    if (m.config.postNorms && !m.native.postFfnNorms)
      throw new NativeUnavailableError(`model ${m.id} has post-norms but no native post-FFN norm weights`);
    const kernel = loadNativeKernels();
    if (!kernel.available) throw new NativeUnavailableError(kernel.detail);
    // A decode step makes ~6 pool calls per layer; a worker that sleeps between them costs a
    // futex wake-up each time. Spinning this long first: TinyLlama shapes, 2 threads, 30 → 34
    // tok/s; an idle engine still sleeps 100 µs after its last call.
    kernel.setSpinMicros(POOL_SPIN_MICROS);
    const kept = o.kept;
    const denseFiles = m.native.dense?.length === L ? m.native.dense : null;
    const rowFiles = m.native.ffn.length === L ? m.native.ffn : null;
    // A one-copy package has no rows files: its rows are made from the packed form, which stays.
    const forms = { rows: o.sparseRows, packed: !o.sparseRows || m.config.hiddenSize < 1024 || !rowFiles };
    if (!denseFiles && !rowFiles && !kept)
      throw new NativeUnavailableError(`model ${m.id} has no native FFN files`);
    const withRows = forms.rows || (!denseFiles && !kept);
    const withPacked = forms.packed && (!!denseFiles || !!kept);
    const steps =
      (withRows && rowFiles ? L : 0) + (withPacked ? L : 0) + (nativeAttention ? L : 0) + (kept ? 1 : 0);
    let done = 0;
    const step = <T>(made: T) => {
      o.onProgress?.(++done / steps);
      return made;
    };
    const load = (f: string) => step(kernel.loadFfn(path.join(dir, f), { threads }));
    // A kept GGUF is laid out head first: its rows (the largest matrix) are read while little else is held.
    const keptHead = kept ? step(kernel.createLinear(kept.head)) : null;
    let packed: SparseFfn[] | null = null;
    if (withPacked) packed = kept ? kept.ffn.map((a) => step(kernel.createFfn(a))) : denseFiles!.map(load);
    const rows = !withRows
      ? null
      : rowFiles
        ? rowFiles.map(load)
        : packed!.map((f) => rowsOf(kernel, f, m, threads));
    // Older packages have only the rows: packing them re-quantizes W_down along its other axis.
    if (!withPacked && forms.packed) for (const f of rows!) f.packDense({ releaseRows: !forms.rows });
    const ffns = Array.from({ length: L }, (_, l) => ({
      sparse: forms.rows ? rows![l] : null,
      dense: packed?.[l] ?? rows![l],
    }));
    const attention = kept
      ? kept.attention.map((a) => step(kernel.createAttention(a)))
      : nativeAttention
        ? m.native.attention!.map((f) => step(kernel.loadAttention(path.join(dir, f), { threads })))
        : null;
    const head =
      keptHead ?? (m.native.head ? kernel.loadLinear(path.join(dir, m.native.head), { threads }) : null);
    return new NativeLayers(
      ffns,
      forms,
      attention,
      head,
      m.native.thresholds,
      m.config.hiddenSize,
      m.config.intermediateSize,
      ffns[0]?.dense.info.isa ?? kernel.kernels[0],
      m.native.postFfnNorms ? readFloats(dir, m.native.postFfnNorms) : null,
      m.config.rmsNormEps,
    );
  }

  /**
   * Whole layers, the head and the FFNs' packed form are all here, so prefill runs natively too
   * and no onnxruntime session is needed.
   */
  get runsEverything(): boolean {
    return this.attention !== null && this.head !== null && this.ffnForms.packed;
  }

  get table(): SparsityTable | undefined {
    return this.thresholdTable;
  }

  get calibrated(): boolean {
    return !!this.thresholdTable;
  }

  get layers(): number {
    return this.ffns.length;
  }

  /** Whole decode layers run natively (attention too), so batched rows reproduce single steps exactly. */
  get decodesNatively(): boolean {
    return this.attention !== null;
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
    if (level > 0 && !this.ffnForms.rows)
      throw new Error(
        "sparse FFN passes need the model loaded with its sparse rows (it was loaded packed dense only)",
      );
    this.level = Math.min(1, Math.max(0, level));
    if (this.level === 0 || !this.thresholdTable) {
      this.thresholds = this.ffns.map(() => 0);
      return;
    }
    const { levels, byLayer } = this.thresholdTable;
    this.thresholds = byLayer.map((row) => interpolate(levels, row, this.level));
  }

  /**
   * A whole layer natively: attention over the layer's cache (rows written at kv.cached..), then
   * the FFN, at the current sparsity for decode rows and dense for prefill; writes the output rows
   * into `out` (S x d, not `x`) and returns it.
   */
  decodeLayer(
    layer: number,
    x: Float32Array,
    positions: Int32Array,
    rotary: { cos: Float32Array; sin: Float32Array },
    kv: KvSlot,
    out: Float32Array,
    decode = true,
  ): Float32Array {
    const S = positions.length;
    const n = S * this.d;
    if (out.length !== n) throw new Error(`a layer's output takes ${n} values, not ${out.length}`);
    if (this.scratch.ffnIn.length < n) this.scratch = { ffnIn: new Float32Array(n) };
    // The attention half writes x + attention straight into the layer's output; the FFN adds to it.
    const ffnIn = this.scratch.ffnIn.subarray(0, n);
    this.attention![layer].run(
      x,
      positions,
      rotary.cos,
      rotary.sin,
      kv.keyData,
      kv.valueData,
      kv.capacity,
      kv.cached,
      out,
      ffnIn,
    );
    this.addFfn(layer, ffnIn, out, S, decode);
    return out;
  }

  /**
   * out[s] += FFN(x[s]) for each of the S rows. Decode rows use the current sparsity; prefill rows
   * (decode = false) are dense.
   */
  addFfn(layer: number, x: Float32Array, out: Float32Array, S: number, decode: boolean): void {
    const threshold = decode ? this.thresholds[layer] : 0;
    const recording = this.recorder !== null && decode;
    const ffn = threshold > 0 || recording ? this.ffns[layer].sparse : this.ffns[layer].dense;
    if (!ffn)
      throw new Error(
        "sparse FFN passes need the model loaded with its sparse rows (it was loaded packed dense only)",
      );
    const d = this.d;
    if (this.recorder && recording) {
      const row = this.rowOut.subarray(0, d);
      for (let s = 0; s < S; s++) {
        ffn.run(x.subarray(s * d, (s + 1) * d), row, threshold, this.acts);
        this.recorder(layer, this.acts);
        this.postNorm(layer, row, 1);
        for (let j = 0; j < d; j++) out[s * d + j] += row[j];
      }
      return;
    }
    if (!this.postFfnNorms) {
      for (let s0 = 0; s0 < S; s0 += NATIVE_MAX_ROWS) {
        const rows = Math.min(NATIVE_MAX_ROWS, S - s0);
        const r = ffn.runRows(
          x.subarray(s0 * d, (s0 + rows) * d),
          out.subarray(s0 * d, (s0 + rows) * d),
          rows,
          threshold,
          true,
        );
        if (decode) {
          this.active += r.active;
          this.offered += rows * this.ffnSize;
        }
      }
      return;
    }
    if (this.rowOut.length < Math.min(S, NATIVE_MAX_ROWS) * d)
      this.rowOut = new Float32Array(Math.min(S, NATIVE_MAX_ROWS) * d);
    for (let s0 = 0; s0 < S; s0 += NATIVE_MAX_ROWS) {
      const rows = Math.min(NATIVE_MAX_ROWS, S - s0);
      const res = this.rowOut.subarray(0, rows * d);
      const r = ffn.runRows(x.subarray(s0 * d, (s0 + rows) * d), res, rows, threshold);
      if (decode) {
        this.active += r.active;
        this.offered += rows * this.ffnSize;
      }
      this.postNorm(layer, res, rows);
      const base = s0 * d;
      for (let j = 0; j < rows * d; j++) out[base + j] += res[j];
    }
  }

  /** Gemma 3's RMSNorm on each of `rows` FFN output rows, in place (nothing for other models). */
  private postNorm(layer: number, rowsOut: Float32Array, rows: number): void {
    if (!this.postFfnNorms) return;
    const d = this.d;
    const w = this.postFfnNorms.subarray(layer * d, (layer + 1) * d);
    for (let r = 0; r < rows; r++) {
      const v = rowsOut.subarray(r * d, (r + 1) * d);
      let ss = 0;
      for (let j = 0; j < d; j++) ss += v[j] * v[j];
      const inv = 1 / Math.sqrt(ss / d + this.eps);
      for (let j = 0; j < d; j++) v[j] = v[j] * inv * w[j];
    }
  }

  /** Final norm + LM head natively on `rows` rows of `hidden` (in blocks of NATIVE_MAX_ROWS), into `dest` if given. */
  logits(hidden: Float32Array, rows: number, vocab: number, dest?: Float32Array): Float32Array {
    const out = dest ?? new Float32Array(rows * vocab);
    for (let s0 = 0; s0 < rows; s0 += NATIVE_MAX_ROWS) {
      const n = Math.min(NATIVE_MAX_ROWS, rows - s0);
      this.head!.run(
        hidden.subarray(s0 * this.d, (s0 + n) * this.d),
        out.subarray(s0 * vocab, (s0 + n) * vocab),
        n,
      );
    }
    return out;
  }

  close(): void {
    for (const f of new Set(this.ffns.flatMap((x) => [x.sparse, x.dense]))) f?.close();
    for (const a of this.attention ?? []) a.close();
    this.head?.close();
  }
}

function interpolate(xs: number[], ys: number[], x: number): number {
  if (x <= xs[0]) return ys[0] * (x / xs[0]);
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) return ys[i - 1] + ((x - xs[i - 1]) / (xs[i] - xs[i - 1])) * (ys[i] - ys[i - 1]);
  }
  return ys[ys.length - 1];
}

/**
 * The per-neuron rows of an FFN made from its packed form (a one-copy package stores only that),
 * quantized again from the packed values at the same bits and block size: close to them, not
 * always equal (a down row is a column of W_down, across its blocks). Only sparse passes and
 * activation recording use the rows; dense passes keep the packed form.
 */
function rowsOf(kernel: AvailableNativeKernels, dense: SparseFfn, m: Manifest, threads: number): SparseFfn {
  const { hiddenSize: d, intermediateSize: ffn } = m.config;
  const info = dense.info;
  return kernel.createFfn({
    d,
    ffn,
    bits: info.bits,
    blockSize: info.blockSize,
    gate: dense.weights("gate"),
    up: dense.weights("up"),
    down: dense.weights("down"),
    ...(m.config.activation === "gelu_tanh" ? { activation: "gelu_tanh" as const } : {}),
    threads,
  });
}
