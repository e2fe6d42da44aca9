// The sparse FFN kernel's JS-facing types, shared by the native addon wrapper and the TS reference.
import type { BandedForm, SourceForm } from "../convert/source-grid.js";

export type SparseBits = 4 | 8;
export type SparseBlockSize = 32 | 64 | 128 | 256;
/** Kernel set: "auto" picks the best this CPU runs; the others force one (tests cover each path). */
export type SparseIsa = "auto" | "amx" | "avx512" | "avx2" | "neon-dotprod" | "neon" | "scalar";

/**
 * A matrix's block grid, from a file whose blocks already lie on one (GGUF Q8_0, Q5_0, Q4_0: each
 * value is an integer times its block's scale): the scale of block b (32 inputs) of row r at
 * [r * ceil(inputs / 32) + b]. Quantized with blockSize 32 against it, the kernels keep exactly
 * the file's values instead of rounding them again. As an object it may also carry the bits the
 * matrix needs; as a SourceForm, the file's own blocks (every kept form, the K-quants' included).
 */
export type BlockGrid =
  | Float32Array
  | {
      /** The bits this matrix needs, over the call's `bits` (a Q5_0 grid in a 4-bit model: 8). */
      bits?: SparseBits;
      scales?: Float32Array;
      /** 256: activations quantized with one scale per 256 inputs, as llama.cpp does for K-quants (Q8_K). */
      activationGroup?: 256;
    }
  | SourceForm
  | BandedForm;

/**
 * Weights whose matrices `K` may be absent: those whose grid is a SourceForm (the file's own
 * blocks) are laid out from the file's bytes, and their values are not read.
 */
export type FromFile<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

export interface SparseFfnWeights {
  /** Hidden size (FFN input and output length). */
  d: number;
  /** Intermediate size (number of neurons). */
  ffn: number;
  /** Weight bits; default 8. */
  bits?: SparseBits;
  /** Inputs per quantization block; default 32. d need not be a multiple: rows are zero-padded. */
  blockSize?: SparseBlockSize;
  /** W_gate [ffn, d], row-major, y = W x. */
  gate: Float32Array;
  /** W_up [ffn, d]. */
  up: Float32Array;
  /** W_down [d, ffn]; stored transposed inside the kernel. */
  down: Float32Array;
  /** The matrices' grids. The per-neuron rows keep gate's and up's; a down row crosses the file's blocks. */
  gateGrid?: BlockGrid;
  upGrid?: BlockGrid;
  downGrid?: BlockGrid;
  /** The gate's activation: SiLU (SwiGLU, the default) or tanh-approximated GELU (GeGLU, Gemma). */
  activation?: "silu" | "gelu_tanh";
}

export interface SparseRunOptions {
  /** Threads of the kernel's persistent pool used per call (the engine's thread count); default 1. */
  threads?: number;
  isa?: SparseIsa;
}

export interface SparseFfnInfo {
  d: number;
  ffn: number;
  bits: SparseBits;
  blockSize: SparseBlockSize;
  /** Bytes per quantized row (codes + fp16 scales [+ int4 zero points], 64-byte aligned). */
  rowBytes: number;
  /** Bytes of all laid-out weights (3 rows per neuron). */
  bytes: number;
  order: "interleaved" | "planar";
  /** Kernel set in use, e.g. "avx512-vnni". */
  isa: string;
  threads: number;
  /** Which forms are in memory: per-neuron rows (sparse passes) and/or packed dense matrices. */
  rows: boolean;
  packed: boolean;
}

export interface SparseFfn {
  /**
   * out = W_down · (act(W_gate x) ⊙ (W_up x)), skipping every neuron with |act(gate)| ≤ threshold
   * (CATS). threshold 0 = dense. `activations` ([ffn], optional) receives act(gate) of every neuron,
   * for threshold calibration. Returns the number of neurons computed.
   */
  run(x: Float32Array, out: Float32Array, threshold: number, activations?: Float32Array): { active: number };
  /** Same, on a libuv worker thread; the handle rejects other calls until the promise settles. */
  runAsync(
    x: Float32Array,
    out: Float32Array,
    threshold: number,
    activations?: Float32Array,
  ): Promise<{ active: number }>;
  /**
   * `rows` rows at once (x, out: [rows, d], rows ≤ 64) in one pass over the weights; each row's
   * result is bit-identical to run() on it alone. With `accumulate`, out += FFN(x) instead (a
   * layer's residual add, without a pass over the rows in JS).
   */
  runRows(
    x: Float32Array,
    out: Float32Array,
    rows: number,
    threshold: number,
    accumulate?: boolean,
  ): { active: number };
  /**
   * Adds a packed dense copy of the weights that threshold-0 passes use (faster per output, and
   * several rows share each weight load). Costs the weights' memory again unless `releaseRows`
   * frees the per-neuron rows, after which sparse passes, activations and save() throw.
   */
  packDense(options?: { releaseRows?: boolean }): void;
  /** Writes the laid-out weights (64-byte header + rows) for loadFfn. */
  save(path: string): void;
  /** W_gate, W_up or W_down as the kernels see them (from the packed form when it is loaded). */
  weights(which: "gate" | "up" | "down"): Float32Array;
  /** Frees the weights now instead of at garbage collection. */
  close(): void;
  setThreads(threads: number): void;
  readonly info: SparseFfnInfo;
}

/** Weights of one layer's attention half (all row-major, y = W x). */
export interface NativeAttentionWeights {
  d: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  bits?: SparseBits;
  blockSize?: SparseBlockSize;
  /** RMSNorm epsilon. */
  eps: number;
  /** Rotary on adjacent pairs (Meta/llama2.c layout) rather than the two halves of a head. */
  interleaved: boolean;
  attnNorm: Float32Array;
  /** [heads*headDim + 2*kvHeads*headDim, d]: q, k and v stacked. */
  wqkv: Float32Array;
  bqkv?: Float32Array;
  /** [d, heads*headDim] */
  wo: Float32Array;
  wqkvGrid?: BlockGrid;
  woGrid?: BlockGrid;
  ffnNorm: Float32Array;
  /** Per-head RMSNorm on q and k before rotary, [headDim] each (Qwen3, Gemma 3). */
  qNorm?: Float32Array;
  kNorm?: Float32Array;
  /** RMSNorm on the attention output before the residual add, [d] (Gemma 3). */
  postNorm?: Float32Array;
  /** Sliding window: a row attends to its last `window` cache slots, itself included (absent: all). */
  window?: number;
  /** Attention score scale (absent: 1/sqrt(headDim)). */
  scale?: number;
}

/** A layer's key or value cache: floats, or IEEE half-precision bit patterns. */
export type KvBuffer = Float32Array | Uint16Array;

export interface NativeAttention {
  /**
   * Rows at `positions` (1..64): writes their K/V to slots cached.. of the layer's buffers
   * ([kvHeads, capacity, headDim] each), attends over slots 0..cached+row, and returns
   * residual = x + attention and ffnIn = RMSNorm(residual) for the FFN. The buffers hold floats
   * (Float32Array) or IEEE halves (Uint16Array, both), as llama.cpp's default cache.
   */
  run(
    x: Float32Array,
    positions: Int32Array,
    cos: Float32Array,
    sin: Float32Array,
    key: KvBuffer,
    value: KvBuffer,
    capacity: number,
    cached: number,
    residual: Float32Array,
    ffnIn: Float32Array,
  ): void;
  save(path: string): void;
  /** W_qkv or W_o as the kernels see them. */
  weights(which: "qkv" | "o"): Float32Array;
  close(): void;
  readonly info: {
    d: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    bits: SparseBits;
    blockSize: SparseBlockSize;
    bytes: number;
    isa: string;
  };
}

export interface NativeLinearWeights {
  outputs: number;
  inputs: number;
  bits?: SparseBits;
  blockSize?: SparseBlockSize;
  /** [outputs, inputs] */
  weights: Float32Array;
  weightsGrid?: BlockGrid;
  bias?: Float32Array;
  /** RMSNorm weights applied to the input first (the LM head's final norm). */
  norm?: Float32Array;
  eps?: number;
}

export interface NativeLinear {
  /** out[rows, outputs] = W · x[rows, inputs] (+ bias), rows ≤ 64. */
  run(x: Float32Array, out: Float32Array, rows: number): void;
  /** One row, and its best output with that output's softmax probability: [index, probability]. */
  runTop(x: Float32Array, out: Float32Array): [number, number];
  save(path: string): void;
  /** The matrix as the kernels see it, [outputs, inputs]. */
  weights(): Float32Array;
  /** Rows `ids` of the matrix as the kernels see them, [ids.length, inputs]. */
  rows(ids: Int32Array): Float32Array;
  close(): void;
  readonly info: {
    inputs: number;
    outputs: number;
    bits: SparseBits;
    blockSize: SparseBlockSize;
    bytes: number;
    isa: string;
  };
}
