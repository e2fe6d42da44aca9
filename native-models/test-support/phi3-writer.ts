// Phi-3 / Phi-4-mini test models: a tiny model with Phi-3's options (partial rotary, LongRoPE) and
// writers that store it the way llama.cpp's converter (GGUF `phi3`) and transformers
// (Phi3ForCausalLM) do, with the fused attn_qkv / qkv_proj and ffn_up / gate_up_proj matrices.
import type { RopeScaling, TensorName } from "../formats/model-source.js";
import { rng } from "./ggml-blocks.js";
import { f32Bytes, writeGguf, type MetaValue, type Plain, type WriterTensor } from "./gguf-writer.js";
import { hfTokenizerJson, writeSafetensors, type StTensor } from "./hf-writer.js";
import { ggufTensorName, tinyModel, type TinyModel } from "./tiny-models.js";

export interface Phi3Options {
  seed?: number;
  layers?: number;
  /** Phi-4-mini's head layout scaled down: 6 query heads sharing 2 key/value heads of 32. */
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  ff?: number;
  vocab?: number;
  /** Fraction of each head that rotates (Phi-4-mini: 0.75). */
  partialRotary?: number;
  /** LongRoPE: trained context, original context (the short/long switch) and factor spread. */
  longRope?: { contextLength: number; originalContextLength: number };
  /** Sliding window (config.json sliding_window); Phi-4-mini's 262144 unless given, null for none. */
  slidingWindow?: number | null;
  /** Weight scale (std of the uniform weights); q/k may have their own, for attention that is not flat. */
  std?: number;
  qkStd?: number;
}

/** A random Phi-3 in canonical form (q/k rows in the file's half-split order, not yet reordered). */
export function tinyPhi3(o: Phi3Options = {}): TinyModel {
  const heads = o.heads ?? 6;
  const headDim = o.headDim ?? 32;
  const m = tinyModel({
    arch: "phi3",
    seed: o.seed ?? 11,
    hidden: heads * headDim,
    heads,
    kvHeads: o.kvHeads ?? 2,
    ff: o.ff ?? 256,
    vocab: o.vocab ?? 64,
    layers: o.layers ?? 3,
    tied: false,
  });
  const r = rng((o.seed ?? 11) * 7919);
  const scale = (o.std ?? 0.02) * Math.sqrt(12);
  for (const [name, t] of m.tensors) {
    if (name.endsWith("norm")) t.data.forEach((_, i) => (t.data[i] = 1 + (r() - 0.5) * 0.2));
    else {
      const s = /\.(wq|wk)$/.test(name) ? (o.qkStd ?? o.std ?? 0.02) * Math.sqrt(12) : scale;
      t.data.forEach((_, i) => (t.data[i] = (r() - 0.5) * s));
    }
  }
  const c = m.config;
  // Not "phi3": llama.cpp gives Phi-3's special tokens their attributes when the name says so, and
  // then needs <|endoftext|>, which the Llama vocabulary the tests borrow does not have.
  c.name = "tiny-synthetic";
  const rotaryDim = Math.floor(headDim * (o.partialRotary ?? 1));
  if (rotaryDim !== headDim) c.rotaryDim = rotaryDim;
  const window = o.slidingWindow === undefined ? 262144 : o.slidingWindow;
  if (window !== null) c.slidingWindow = window;
  if (o.longRope) {
    c.contextLength = o.longRope.contextLength;
    const orig = o.longRope.originalContextLength;
    const factor = c.contextLength / orig;
    // Like Phi-3's: short factors near 1, long ones growing with the wavelength; 4 decimals, as in config.json.
    const round = (x: number) => Number(x.toFixed(4));
    const half = rotaryDim / 2;
    const scaling: RopeScaling = {
      type: "longrope",
      shortFactor: Array.from({ length: half }, (_, i) => round(1 + (0.2 * i) / half + r() * 0.05)),
      longFactor: Array.from({ length: half }, (_, i) =>
        round(1 + (factor * 4 * i * i) / (half * half) + r()),
      ),
      originalContextLength: orig,
      attentionFactor: Math.sqrt(1 + Math.log(factor) / Math.log(orig)),
    };
    c.ropeScaling = scaling;
  }
  return m;
}

function stacked(m: TinyModel, layer: number, parts: string[]): { shape: number[]; data: Float32Array } {
  const ts = parts.map((p) => m.tensors.get(`layers.${layer}.${p}` as TensorName)!);
  const data = new Float32Array(ts.reduce((s, t) => s + t.data.length, 0));
  let at = 0;
  for (const t of ts) {
    data.set(t.data, at);
    at += t.data.length;
  }
  return { shape: [ts.reduce((s, t) => s + t.shape[0], 0), ts[0].shape[1]], data };
}

/** The stored tensors: globals and norms as they are, [q; k; v] and [gate; up] fused. */
function phi3Tensors(m: TinyModel, names: (n: TensorName) => string, fused: { qkv: string; gateUp: string }) {
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const [n, t] of m.tensors)
    if (!/\.(wq|wk|wv|w_gate|w_up)$/.test(n)) out.push({ name: names(n), ...t });
  for (let l = 0; l < m.config.numLayers; l++) {
    out.push({ name: fused.qkv.replace("#", String(l)), ...stacked(m, l, ["wq", "wk", "wv"]) });
    out.push({ name: fused.gateUp.replace("#", String(l)), ...stacked(m, l, ["w_gate", "w_up"]) });
  }
  return out;
}

/** A GGUF `phi3` file as llama.cpp's convert_hf_to_gguf.py writes one (f32). */
export function phi3Gguf(
  m: TinyModel,
  /** vocab: tokenizer keys to write instead of the model's own pieces; omit: tensors to leave out. */
  opts: { vocab?: Record<string, Plain>; omit?: string[] } = {},
): Uint8Array {
  const c = m.config;
  const s = c.ropeScaling?.type === "longrope" ? c.ropeScaling : undefined;
  const tensors: WriterTensor[] = phi3Tensors(m, ggufTensorName, {
    qkv: "blk.#.attn_qkv.weight",
    gateUp: "blk.#.ffn_up.weight",
  })
    .filter((t) => !opts.omit?.includes(t.name))
    .map((t) => ({ name: t.name, ne: [...t.shape].reverse(), type: 0, data: f32Bytes(t.data) }));
  if (s) {
    tensors.push({
      name: "rope_factors_long.weight",
      ne: [s.longFactor.length],
      type: 0,
      data: f32Bytes(s.longFactor),
    });
    tensors.push({
      name: "rope_factors_short.weight",
      ne: [s.shortFactor.length],
      type: 0,
      data: f32Bytes(s.shortFactor),
    });
  }
  const u32 = (v: number): MetaValue => ({ t: "u32", v });
  const f32 = (v: number): MetaValue => ({ t: "f32", v });
  const metadata: Record<string, Plain> = {
    "general.architecture": "phi3",
    "general.name": c.name,
    "general.alignment": u32(32),
    "phi3.context_length": u32(c.contextLength),
    "phi3.embedding_length": u32(c.hiddenSize),
    "phi3.feed_forward_length": u32(c.intermediateSize),
    "phi3.block_count": u32(c.numLayers),
    "phi3.attention.head_count": u32(c.numHeads),
    "phi3.attention.head_count_kv": u32(c.numKvHeads),
    "phi3.attention.layer_norm_rms_epsilon": f32(c.rmsNormEps),
    "phi3.rope.dimension_count": u32(c.rotaryDim ?? c.headDim),
    "phi3.rope.freq_base": f32(c.ropeTheta),
    ...(c.slidingWindow ? { "phi3.attention.sliding_window": u32(c.slidingWindow) } : {}),
    ...(s
      ? {
          "phi3.rope.scaling.original_context_length": u32(s.originalContextLength),
          "phi3.rope.scaling.attn_factor": f32(s.attentionFactor),
        }
      : {}),
    "general.file_type": u32(0),
    ...(opts.vocab ?? {
      "tokenizer.ggml.model": "llama",
      "tokenizer.ggml.tokens": m.pieces,
      "tokenizer.ggml.scores": m.pieces.map((_, i) => f32(-i)),
      "tokenizer.ggml.token_type": m.pieces.map((_, i) => (i < 3 ? 3 : 1)),
      "tokenizer.ggml.bos_token_id": u32(1),
    }),
  };
  return writeGguf({ metadata, tensors }).bytes;
}

const HF_NAMES: Record<string, string> = {
  embed: "model.embed_tokens.weight",
  final_norm: "model.norm.weight",
  lm_head: "lm_head.weight",
  attn_norm: "input_layernorm.weight",
  wo: "self_attn.o_proj.weight",
  ffn_norm: "post_attention_layernorm.weight",
  w_down: "mlp.down_proj.weight",
};
function hfName(n: TensorName): string {
  const m = /^layers\.(\d+)\.(.+)$/.exec(n);
  return m ? `model.layers.${m[1]}.${HF_NAMES[m[2]]}` : HF_NAMES[n];
}

/** The files of a Phi3ForCausalLM folder holding the same weights (config.json as Phi-3/Phi-4-mini ship it). */
export function phi3HfFolder(m: TinyModel): Record<string, Uint8Array | string> {
  const c = m.config;
  const s = c.ropeScaling?.type === "longrope" ? c.ropeScaling : undefined;
  const tensors: StTensor[] = phi3Tensors(m, hfName, {
    qkv: "model.layers.#.self_attn.qkv_proj.weight",
    gateUp: "model.layers.#.mlp.gate_up_proj.weight",
  }).map((t) => ({ name: t.name, dtype: "F32", shape: t.shape, data: f32Bytes(t.data) }));
  const config = {
    architectures: ["Phi3ForCausalLM"],
    model_type: "phi3",
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.contextLength,
    original_max_position_embeddings: s?.originalContextLength ?? c.contextLength,
    partial_rotary_factor: (c.rotaryDim ?? c.headDim) / c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: s ? { type: "longrope", short_factor: s.shortFactor, long_factor: s.longFactor } : null,
    sliding_window: c.slidingWindow ?? null,
    tie_word_embeddings: c.tiedEmbeddings,
    torch_dtype: "float32",
  };
  return {
    "config.json": JSON.stringify(config, null, 2),
    "model.safetensors": writeSafetensors(tensors),
    "tokenizer.json": JSON.stringify(hfTokenizerJson(m)),
  };
}
