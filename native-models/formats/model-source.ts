// The one shape every model reader (GGUF, Hugging Face folder, llama2.c) produces.
// The converter only ever sees a ModelSource, never a file format.
import type { DequantizedTensor } from "./tensor-read.js";

export const SUPPORTED_ARCHITECTURES = ["llama", "qwen2", "qwen3", "gemma3", "phi3"] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export type RopeScaling =
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalContextLength: number;
    }
  | { type: "linear"; factor: number }
  | {
      /**
       * Phi-3's LongRoPE ("su"): per-frequency divisors, the short set for contexts up to
       * originalContextLength and the long set beyond, with cos/sin scaled by attentionFactor.
       * Which set applies is chosen once, from the context the model is loaded with (as llama.cpp does).
       */
      type: "longrope";
      shortFactor: number[];
      longFactor: number[];
      originalContextLength: number;
      attentionFactor: number;
    };

export interface ModelConfig {
  arch: Architecture;
  /** Human-readable name from the file's metadata (or the file/folder name). */
  name: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  contextLength: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  /**
   * Dimensions of each head that rotate (Phi-4-mini: 96 of 128); absent: all of them. The readers
   * reorder q/k rows so that the rotating dimensions come first in each rotary half, so the
   * remaining ones become zero-frequency pairs and every kernel keeps rotating whole heads.
   */
  rotaryDim?: number;
  /**
   * Rotary layout of the stored q/k rows. true: adjacent pairs (x[2i], x[2i+1]) as in GGUF `llama`
   * and llama2.c; false: half-split (x[i], x[i+d/2]) as in Hugging Face and GGUF `qwen2`.
   */
  ropeInterleaved: boolean;
  /** q/k/v projections carry a bias (Qwen2). */
  attentionBias: boolean;
  /** No separate output matrix: the LM head is the embedding table. */
  tiedEmbeddings: boolean;
  /** Per-head RMSNorm on q and k (weights q_norm, k_norm of headDim) before rotary (Qwen3). */
  qkNorm?: boolean;
  /**
   * Sliding-window attention (Mistral): a token attends to the last `slidingWindow` tokens, itself
   * included. Absent: every earlier token.
   */
  slidingWindow?: number;
  /** Which layers the window applies to (absent: all of them). */
  slidingWindowLayers?: boolean[];
  /** Rotary base of the sliding-window layers, which take no rope scaling (Gemma 3); absent: ropeTheta. */
  ropeLocalTheta?: number;
  /** Embeddings are multiplied by this before the first layer (Gemma: √hidden). */
  embedScale?: number;
  /** Attention score scale (Gemma 3: query_pre_attn_scalar^-½); absent: 1/√headDim. */
  attentionScale?: number;
  /** RMSNorm on the attention output and on the FFN output before their residual adds (Gemma 3). */
  postNorms?: boolean;
  /** The FFN gate's activation; absent: SiLU. */
  activation?: "silu" | "gelu_tanh";
  /** Final logits become cap·tanh(logits/cap) (Gemma 2 style soft-capping). */
  finalLogitSoftcap?: number;
}

/** The rotary base and scaling of `layer` (Gemma 3's local layers have their own). */
export function layerRope(c: ModelConfig, layer: number): { theta: number; scaling?: RopeScaling } {
  // A local layer keeps its rotary base even where the window covers the whole context.
  if (c.ropeLocalTheta !== undefined && c.slidingWindowLayers?.[layer]) return { theta: c.ropeLocalTheta };
  return { theta: c.ropeTheta, ...(c.ropeScaling ? { scaling: c.ropeScaling } : {}) };
}

/** The attention window of `layer` in tokens, 0 when it attends to every earlier token. */
export function attentionWindow(c: ModelConfig, layer: number): number {
  if (!c.slidingWindow) return 0;
  return (c.slidingWindowLayers?.[layer] ?? true) ? c.slidingWindow : 0;
}

/** Canonical tensor names, independent of the source format. */
export type LayerTensor =
  | "attn_norm"
  | "wq"
  | "wk"
  | "wv"
  | "wo"
  | "bq"
  | "bk"
  | "bv"
  | "q_norm"
  | "k_norm"
  | "post_attn_norm"
  | "ffn_norm"
  | "post_ffn_norm"
  | "w_gate"
  | "w_up"
  | "w_down";
export type TensorName = "embed" | "final_norm" | "lm_head" | `layers.${number}.${LayerTensor}`;

export interface TensorInfo {
  name: TensorName;
  /** Row-major shape as used by y = W x: matrices are [out, in]; embed and lm_head are [vocab, hidden]. */
  shape: number[];
  /** Storage type in the source file, e.g. "F32", "F16", "BF16", "Q8_0", "Q4_K". */
  sourceType: string;
}

/** What the tokenizer builder needs, in the source's own terms. */
export type TokenizerSource =
  | {
      kind: "gguf";
      /** Every tokenizer.* key, typed as read, and general.name (llama.cpp sets Phi-3's token attributes by name). */
      metadata: ReadonlyMap<string, unknown>;
    }
  | { kind: "hf"; tokenizerJson: unknown; tokenizerConfig?: unknown }
  | { kind: "llama2c"; pieces: string[]; scores: number[] }
  | { kind: "none" };

export interface ModelSource {
  format: "gguf" | "hf" | "llama2c";
  /** The file or folder the user gave us. */
  path: string;
  config: ModelConfig;
  tokenizer: TokenizerSource;
  tensors: ReadonlyMap<TensorName, TensorInfo>;
  /** Dequantized to float32, in TensorInfo.shape row-major order. One tensor at a time keeps memory bounded. */
  readTensor(name: TensorName): Promise<Float32Array>;
  /** The same values with the file's block grid, where its blocks have one (block-grid.ts); GGUF only. */
  readTensorWithGrid?(name: TensorName): Promise<DequantizedTensor>;
  /** The tensor's blocks as the file holds them (ggml type and bytes; a fused tensor's part: its rows); GGUF only. */
  readTensorBlocks?(name: TensorName): Promise<{ type: string; bytes: Uint8Array } | undefined>;
  /**
   * Where the file holds the tensor's blocks (a fused tensor's part: its rows), for readers that
   * read them there; undefined where they are not its rows as the model reads them. GGUF only.
   */
  locateTensorBlocks?(
    name: TensorName,
  ): { type: string; rows: number; file: string; offset: number } | undefined;
  close(): Promise<void>;
}
