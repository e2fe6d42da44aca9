// ONNX graphs for one decoder layer (and the pieces early exit and sparsity need), built from
// onnxruntime contrib ops: MatMulNBits, RotaryEmbedding, GroupQueryAttention, SkipSimplifiedLayerNorm.
//
// Rotary is applied by RotaryEmbedding with explicit position ids instead of inside GQA, so that a
// layer's KV cache may hold fewer positions than the sequence (tokens that exited before reaching
// it are simply absent) while every key still carries its true position.
import { attentionWindow, type ModelConfig } from "../formats/model-source.js";
import { GraphBuilder, type WeightBlob } from "./onnx-builder.js";
import { emitLinear, stackRows, type LinearOptions } from "./linear.js";
import type { TensorGrid } from "../formats/block-grid.js";
import { keptGrid } from "./source-grid.js";

export interface LayerWeights {
  attnNorm: Float32Array;
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  bq?: Float32Array;
  bk?: Float32Array;
  bv?: Float32Array;
  /** Per-head RMSNorm weights on q and k [headDim] (Qwen3). */
  qNorm?: Float32Array;
  kNorm?: Float32Array;
  /** RMSNorm weights on the attention and FFN outputs before their residual adds (Gemma 3). */
  postAttnNorm?: Float32Array;
  postFfnNorm?: Float32Array;
  ffnNorm: Float32Array;
  wGate: Float32Array;
  wUp: Float32Array;
  wDown: Float32Array;
  /** The file's block grids of the matrices that have one (GGUF Q8_0/Q5_0/Q4_0). */
  grids?: LayerGrids;
}

export type LayerGrids = Partial<Record<"wq" | "wk" | "wv" | "wo" | "wGate" | "wUp" | "wDown", TensorGrid>>;

/** The grid scales of these matrices stacked, when the options' bits keep all of them; undefined otherwise. */
export function gridOf(o: LinearOptions, ...parts: (TensorGrid | undefined)[]): Float32Array | undefined {
  if (o.quant !== "int4" && o.quant !== "int8") return undefined;
  return keptGrid(o.quant === "int4" ? 4 : 8, o.blockSize, ...parts);
}

export interface GraphFiles {
  model: Uint8Array;
  weights: WeightBlob;
}

/** Names of the inputs and outputs every layer graph uses (the runtime feeds them by name). */
export const LAYER_IO = {
  hidden: "hidden",
  positionIds: "position_ids",
  pastKey: "past_key",
  pastValue: "past_value",
  seqlensK: "seqlens_k",
  totalSeqLen: "total_seq_len",
  hiddenOut: "hidden_out",
  presentKey: "present_key",
  presentValue: "present_value",
  /** Layer graphs for the sparse path stop before the FFN and hand these to the native kernel. */
  ffnInput: "ffn_input",
  residual: "residual",
  key: "key",
  value: "value",
  cos: "cos_cache",
  sin: "sin_cache",
} as const;

export interface LayerGraphOptions extends LinearOptions {
  /** "full": attention + FFN; "attention": stops at the FFN input (for the native FFN kernels). */
  part: "full" | "attention";
}

/**
 * The rotary tables and KV buffers are graph inputs, not weights: the runtime picks the context
 * length at load time and shares one cos/sin table between all layers.
 */
function rotaryInputs(g: GraphBuilder, cfg: ModelConfig) {
  const half = cfg.headDim / 2;
  return {
    cos: g.input(LAYER_IO.cos, "float32", ["max_pos", half]),
    sin: g.input(LAYER_IO.sin, "float32", ["max_pos", half]),
  };
}

export function buildLayerGraph(
  cfg: ModelConfig,
  layer: number,
  w: LayerWeights,
  o: LayerGraphOptions,
): GraphFiles {
  const d = cfg.hiddenSize;
  const kvd = cfg.numKvHeads * cfg.headDim;
  const qd = cfg.numHeads * cfg.headDim;
  const g = new GraphBuilder(`layer${layer}`, `layer${layer}.bin`);
  const eps = { float: cfg.rmsNormEps };
  const IO = LAYER_IO;

  const hidden = g.input(IO.hidden, "float32", [1, "seq", d]);
  const pos = g.input(IO.positionIds, "int64", [1, "seq"]);
  const kvShape = [1, cfg.numKvHeads, "max_pos", cfg.headDim];
  const pastK = g.input(IO.pastKey, "float32", kvShape);
  const pastV = g.input(IO.pastValue, "float32", kvShape);
  const seqlensK = g.input(IO.seqlensK, "int32", [1]);
  const totalLen = g.input(IO.totalSeqLen, "int32", []);
  const { cos, sin } = rotaryInputs(g, cfg);

  const x = g.op(
    "SimplifiedLayerNormalization",
    [hidden, g.weight("attn_norm", "float32", [d], w.attnNorm)],
    {
      epsilon: eps,
      axis: -1,
      stash_type: 1,
    },
  );
  const bias = w.bq && w.bk && w.bv ? stackRows([w.bq, w.bk, w.bv]) : undefined;
  const grids = w.grids ?? {};
  const qkvGrid = gridOf(o, grids.wq, grids.wk, grids.wv);
  const qkv = emitLinear(g, "qkv", x, stackRows([w.wq, w.wk, w.wv]), qd + 2 * kvd, d, o, bias, qkvGrid);
  const [q0, k0, v] = g.node(
    "Split",
    [qkv, g.constant("qkv_split", "int64", [3], new BigInt64Array([BigInt(qd), BigInt(kvd), BigInt(kvd)]))],
    3,
    { axis: -1 },
  );
  // Per-head RMSNorm (Qwen3): view [1, seq, heads*hd] as [1, seq, heads, hd], normalise the last axis.
  const headNorm = (input: string, name: string, heads: number, weight: Float32Array | undefined) => {
    if (!weight) return input;
    const split = g.constant(`${name}_heads`, "int64", [4], BigInt64Array.from([0n, 0n, BigInt(heads), -1n]));
    const flat = g.constant(`${name}_flat`, "int64", [3], BigInt64Array.from([0n, 0n, -1n]));
    const normed = g.op(
      "SimplifiedLayerNormalization",
      [g.op("Reshape", [input, split]), g.weight(name, "float32", [cfg.headDim], weight)],
      { epsilon: eps, axis: -1, stash_type: 1 },
    );
    return g.op("Reshape", [normed, flat]);
  };
  const rotary = (input: string, heads: number) =>
    g.ms("RotaryEmbedding", [input, pos, cos, sin], {
      interleaved: cfg.ropeInterleaved ? 1 : 0,
      num_heads: heads,
    })[0];
  const q = rotary(headNorm(q0, "q_norm", cfg.numHeads, w.qNorm), cfg.numHeads);
  const k = rotary(headNorm(k0, "k_norm", cfg.numKvHeads, w.kNorm), cfg.numKvHeads);
  const [attn] = g.ms(
    "GroupQueryAttention",
    [q, k, v, pastK, pastV, seqlensK, totalLen],
    {
      num_heads: cfg.numHeads,
      kv_num_heads: cfg.numKvHeads,
      do_rotary: 0,
      scale: { float: cfg.attentionScale ?? 1 / Math.sqrt(cfg.headDim) },
      // The keys each query sees, its own included (measured against the reference); -1: all.
      local_window_size: attentionWindow(cfg, layer) || -1,
    },
    ["attn", IO.presentKey, IO.presentValue],
  );
  g.output(IO.presentKey, "float32", kvShape);
  g.output(IO.presentValue, "float32", kvShape);

  const rms = (input: string, name: string, weight: Float32Array) =>
    g.op("SimplifiedLayerNormalization", [input, g.weight(name, "float32", [d], weight)], {
      epsilon: eps,
      axis: -1,
      stash_type: 1,
    });
  const projected = emitLinear(g, "wo", attn, w.wo, d, qd, o, undefined, gridOf(o, grids.wo));
  const attnOut = w.postAttnNorm ? rms(projected, "post_attn_norm", w.postAttnNorm) : projected;
  const [ffnIn, , , residual] = g.ms(
    "SkipSimplifiedLayerNormalization",
    [attnOut, hidden, g.weight("ffn_norm", "float32", [d], w.ffnNorm)],
    { epsilon: eps },
    o.part === "attention" ? [IO.ffnInput, "", "", IO.residual] : 4,
  );
  if (o.part === "attention") {
    g.output(IO.ffnInput, "float32", [1, "seq", d]);
    g.output(IO.residual, "float32", [1, "seq", d]);
    return g.build();
  }
  const f = cfg.intermediateSize;
  const gateUpGrid = gridOf(o, grids.wGate, grids.wUp);
  const gateUp = emitLinear(
    g,
    "gate_up",
    ffnIn,
    stackRows([w.wGate, w.wUp]),
    2 * f,
    d,
    o,
    undefined,
    gateUpGrid,
  );
  const [gate, up] = g.node(
    "Split",
    [gateUp, g.constant("gu_split", "int64", [2], new BigInt64Array([BigInt(f), BigInt(f)]))],
    2,
    { axis: -1 },
  );
  // SwiGLU, or GeGLU with the tanh GELU (FastGelu is exactly that approximation).
  const activated =
    cfg.activation === "gelu_tanh"
      ? g.ms("FastGelu", [gate])[0]
      : g.op("Mul", [gate, g.op("Sigmoid", [gate])]);
  const act = g.op("Mul", [activated, up]);
  const down = emitLinear(g, "down", act, w.wDown, d, f, o, undefined, gridOf(o, grids.wDown));
  const ffnOut = w.postFfnNorm ? rms(down, "post_ffn_norm", w.postFfnNorm) : down;
  g.node("Add", [ffnOut, residual], [IO.hiddenOut]);
  g.output(IO.hiddenOut, "float32", [1, "seq", d]);
  return g.build();
}

/** Final RMSNorm + LM head: hidden [1, seq, d] -> logits [1, seq, vocab]. */
export function buildHeadGraph(
  cfg: ModelConfig,
  finalNorm: Float32Array,
  lmHead: Float32Array,
  o: LinearOptions,
  lmHeadGrid?: TensorGrid,
): GraphFiles {
  const d = cfg.hiddenSize;
  const g = new GraphBuilder("head", "head.bin");
  const hidden = g.input(LAYER_IO.hidden, "float32", [1, "seq", d]);
  const x = g.op(
    "SimplifiedLayerNormalization",
    [hidden, g.weight("final_norm", "float32", [d], finalNorm)],
    {
      epsilon: { float: cfg.rmsNormEps },
      axis: -1,
      stash_type: 1,
    },
  );
  const logits = emitLinear(g, "lm_head", x, lmHead, cfg.vocabSize, d, o, undefined, gridOf(o, lmHeadGrid));
  const cap = cfg.finalLogitSoftcap;
  if (cap) {
    // cap · tanh(logits / cap), Gemma's final soft-capping.
    const c = g.constant("softcap", "float32", [], Float32Array.of(cap));
    g.node("Mul", [g.op("Tanh", [g.op("Div", [logits, c])]), c], ["logits"]);
  } else g.node("Identity", [logits], ["logits"]);
  g.output("logits", "float32", [1, "seq", cfg.vocabSize]);
  return g.build();
}
