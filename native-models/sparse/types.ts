// The sparse FFN kernel's JS-facing types, shared by the native addon wrapper and the TS reference.

export type SparseBits = 4 | 8;
export type SparseBlockSize = 32 | 64 | 128 | 256;
/** Kernel set: "auto" picks the best this CPU runs; the others force one (tests cover each path). */
export type SparseIsa = "auto" | "avx512" | "avx2" | "neon-dotprod" | "neon" | "scalar";

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
}

export interface SparseFfn {
  /**
   * out = W_down · (SiLU(W_gate x) ⊙ (W_up x)), skipping every neuron with |SiLU(gate)| ≤ threshold
   * (CATS). threshold 0 = dense. `activations` ([ffn], optional) receives SiLU(gate) of every neuron,
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
  /** Writes the laid-out weights (64-byte header + rows) for loadFfn. */
  save(path: string): void;
  /** Frees the weights now instead of at garbage collection. */
  close(): void;
  setThreads(threads: number): void;
  readonly info: SparseFfnInfo;
}
