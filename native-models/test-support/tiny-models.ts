// A tiny random model in canonical form, and writers that store it as GGUF, a Hugging Face folder and
// a llama2.c checkpoint. Tests and the fuzzer use these as small valid base inputs.

import type { Architecture, ModelConfig, TensorName } from "../formats/model-source.js";
import { concat, f16Bits, rng } from "./ggml-blocks.js";
import { f32Bytes, writeGguf, type Plain, type WriterTensor, type WrittenGguf } from "./gguf-writer.js";

export interface TinyModel {
  config: ModelConfig;
  /** Canonical tensors, row-major [out, in]; q/k rows in the adjacent-pair (interleaved) rotary order. */
  tensors: Map<TensorName, { shape: number[]; data: Float32Array }>;
  pieces: string[];
}

export function tinyModel(
  opts: {
    arch?: Architecture;
    tied?: boolean;
    seed?: number;
    hidden?: number;
    ff?: number;
    vocab?: number;
    layers?: number;
    heads?: number;
    kvHeads?: number;
    /** Defaults to hidden / heads; Qwen3 models often use another. */
    headDim?: number;
    /** Sliding-window attention on every layer (Mistral). */
    slidingWindow?: number;
  } = {},
): TinyModel {
  const arch = opts.arch ?? "llama";
  const hidden = opts.hidden ?? 32;
  const heads = opts.heads ?? 4;
  const kv = opts.kvHeads ?? 2;
  const hd = opts.headDim ?? hidden / heads;
  const config: ModelConfig = {
    arch,
    name: "tiny",
    hiddenSize: hidden,
    intermediateSize: opts.ff ?? 64,
    numLayers: opts.layers ?? 2,
    numHeads: heads,
    numKvHeads: kv,
    headDim: hd,
    vocabSize: opts.vocab ?? 64,
    contextLength: 128,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeInterleaved: arch === "llama",
    attentionBias: arch === "qwen2",
    tiedEmbeddings: opts.tied ?? true,
    ...(arch === "qwen3" ? { qkNorm: true } : {}),
    ...(opts.slidingWindow ? { slidingWindow: opts.slidingWindow } : {}),
  };
  if (arch === "gemma3") {
    // llama.cpp's gemma3: every sixth layer global, the others local with a window.
    Object.assign(config, {
      qkNorm: true,
      postNorms: true,
      activation: "gelu_tanh",
      embedScale: Math.fround(Math.sqrt(hidden)),
      attentionScale: 1 / Math.sqrt(hd),
      slidingWindow: opts.slidingWindow ?? 4,
      slidingWindowLayers: Array.from({ length: config.numLayers }, (_, l) => l % 6 < 5),
      ropeTheta: 1e6,
      ropeLocalTheta: 10000,
    } satisfies Partial<ModelConfig>);
  }
  const r = rng(opts.seed ?? 7);
  const tensors: TinyModel["tensors"] = new Map();
  const add = (n: TensorName, shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (r() - 0.5) * 0.2;
    tensors.set(n, { shape, data });
  };
  const { vocabSize: V, intermediateSize: F } = config;
  add("embed", [V, hidden]);
  add("final_norm", [hidden]);
  if (!config.tiedEmbeddings) add("lm_head", [V, hidden]);
  for (let i = 0; i < config.numLayers; i++) {
    add(`layers.${i}.attn_norm`, [hidden]);
    add(`layers.${i}.wq`, [heads * hd, hidden]);
    add(`layers.${i}.wk`, [kv * hd, hidden]);
    add(`layers.${i}.wv`, [kv * hd, hidden]);
    add(`layers.${i}.wo`, [hidden, heads * hd]);
    if (config.attentionBias) {
      add(`layers.${i}.bq`, [heads * hd]);
      add(`layers.${i}.bk`, [kv * hd]);
      add(`layers.${i}.bv`, [kv * hd]);
    }
    if (config.qkNorm) {
      add(`layers.${i}.q_norm`, [hd]);
      add(`layers.${i}.k_norm`, [hd]);
    }
    if (config.postNorms) {
      add(`layers.${i}.post_attn_norm`, [hidden]);
      add(`layers.${i}.post_ffn_norm`, [hidden]);
    }
    add(`layers.${i}.ffn_norm`, [hidden]);
    add(`layers.${i}.w_gate`, [F, hidden]);
    add(`layers.${i}.w_up`, [F, hidden]);
    add(`layers.${i}.w_down`, [hidden, F]);
  }
  const pieces = ["<unk>", "<s>", "</s>", ...Array.from({ length: V - 3 }, (_, i) => `▁t${i}`)];
  return { config, tensors, pieces };
}

const GGUF_NAMES: Record<string, string> = {
  attn_norm: "attn_norm.weight",
  wq: "attn_q.weight",
  wk: "attn_k.weight",
  wv: "attn_v.weight",
  wo: "attn_output.weight",
  bq: "attn_q.bias",
  bk: "attn_k.bias",
  bv: "attn_v.bias",
  q_norm: "attn_q_norm.weight",
  k_norm: "attn_k_norm.weight",
  post_attn_norm: "post_attention_norm.weight",
  post_ffn_norm: "post_ffw_norm.weight",
  ffn_norm: "ffn_norm.weight",
  w_gate: "ffn_gate.weight",
  w_up: "ffn_up.weight",
  w_down: "ffn_down.weight",
};
export function ggufTensorName(n: TensorName): string {
  if (n === "embed") return "token_embd.weight";
  if (n === "final_norm") return "output_norm.weight";
  if (n === "lm_head") return "output.weight";
  const [, i, t] = n.split(".");
  return `blk.${i}.${GGUF_NAMES[t]}`;
}

const GGML_ID: Record<string, [number, number, number]> = {
  F32: [0, 1, 4],
  F16: [1, 1, 2],
  BF16: [30, 1, 2],
  Q8_0: [8, 32, 34],
  Q4_0: [2, 32, 18],
  Q4_1: [3, 32, 20],
  Q5_0: [6, 32, 22],
  Q5_1: [7, 32, 24],
  Q4_K: [12, 256, 144],
  Q5_K: [13, 256, 176],
  Q6_K: [14, 256, 210],
};
/** Byte offsets of the f16 scales inside one block, so random blocks get finite scales. */
const SCALE_AT: Record<string, number[]> = {
  Q8_0: [0],
  Q4_0: [0],
  Q4_1: [0, 2],
  Q5_0: [0],
  Q5_1: [0, 2],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
};

/** Encodes values for GGUF: floats exactly; quantized types as random blocks with finite scales (values then differ). */
export function encodeTensor(type: string, data: Float32Array, seed: number): Uint8Array {
  if (type === "F32") return f32Bytes(data);
  if (type === "F16") return new Uint8Array(Uint16Array.from(data, f16Bits).buffer);
  if (type === "BF16")
    return new Uint8Array(
      Uint16Array.from(new Uint32Array(Float32Array.from(data).buffer), (u) => u >>> 16).buffer,
    );
  const [, bs, ts] = GGML_ID[type];
  const r = rng(seed);
  const blocks: Uint8Array[] = [];
  for (let b = 0; b < data.length / bs; b++) {
    const blk = Uint8Array.from({ length: ts }, () => Math.floor(r() * 256));
    for (const o of SCALE_AT[type]) {
      const h = f16Bits(0.001 + r() * 0.01);
      blk[o] = h & 0xff;
      blk[o + 1] = h >> 8;
    }
    blocks.push(blk);
  }
  return concat(blocks);
}

/** llama.cpp reads counts and sizes as u32 and refuses other integer types. */
const u32 = (v: number): Plain => ({ t: "u32", v });

export function tinyGguf(
  m: TinyModel,
  opts: {
    type?: string;
    extraMeta?: Record<string, Plain>;
    version?: number;
    extraTensors?: { name: string; values: number[] }[];
  } = {},
): WrittenGguf {
  const c = m.config;
  const a = c.arch;
  const type = opts.type ?? "F32";
  let seed = 1;
  const tensors: WriterTensor[] = [...m.tensors].map(([n, t]) => {
    // Quantize only matrices whose rows fill whole blocks, as llama.cpp does.
    const [id, bs] = GGML_ID[type];
    const q = t.shape.length === 2 && t.shape[1] % bs === 0 ? type : "F32";
    return {
      name: ggufTensorName(n),
      ne: [...t.shape].reverse(),
      type: q === type ? id : 0,
      data: encodeTensor(q, t.data, seed++),
    };
  });
  for (const x of opts.extraTensors ?? [])
    tensors.push({ name: x.name, ne: [x.values.length], type: 0, data: f32Bytes(x.values) });
  return writeGguf({
    version: opts.version,
    metadata: {
      "general.architecture": a,
      "general.name": c.name,
      "general.alignment": { t: "u32", v: 32 },
      [`${a}.context_length`]: u32(c.contextLength),
      [`${a}.embedding_length`]: u32(c.hiddenSize),
      [`${a}.block_count`]: u32(c.numLayers),
      [`${a}.feed_forward_length`]: u32(c.intermediateSize),
      [`${a}.attention.head_count`]: u32(c.numHeads),
      [`${a}.attention.head_count_kv`]: u32(c.numKvHeads),
      [`${a}.rope.dimension_count`]: u32(c.headDim),
      [`${a}.attention.key_length`]: u32(c.headDim),
      [`${a}.attention.value_length`]: u32(c.headDim),
      [`${a}.attention.layer_norm_rms_epsilon`]: { t: "f32", v: c.rmsNormEps },
      [`${a}.rope.freq_base`]: { t: "f32", v: c.ropeTheta },
      ...(c.slidingWindow ? { [`${a}.attention.sliding_window`]: u32(c.slidingWindow) } : {}),
      ...(c.finalLogitSoftcap
        ? { [`${a}.final_logit_softcapping`]: { t: "f32", v: c.finalLogitSoftcap } }
        : {}),
      "tokenizer.ggml.model": "llama",
      "tokenizer.ggml.tokens": m.pieces,
      "tokenizer.ggml.scores": m.pieces.map((_, i) => ({ t: "f32", v: -i }) as Plain),
      "tokenizer.ggml.token_type": m.pieces.map((_, i) => (i < 3 ? 3 : 1)),
      "tokenizer.ggml.bos_token_id": { t: "u32", v: 1 },
      ...opts.extraMeta,
    },
    tensors,
  });
}

/** HF's half-split rotary permutation of q/k rows (transformers convert_llama_weights_to_hf.permute). */
export function hfPermute(w: Float32Array, heads: number, rowsPerHead: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = rowsPerHead / 2;
  for (let h = 0; h < heads; h++)
    for (let r = 0; r < rowsPerHead; r++) {
      // Row i*2+p of the adjacent-pair layout goes to p*half+i.
      const src = h * rowsPerHead + r;
      const dst = h * rowsPerHead + (r % 2) * half + (r >> 1);
      out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
    }
  return out;
}

/** Inverse of hfPermute: HF half-split rows back to adjacent pairs. */
export function hfUnpermute(w: Float32Array, heads: number, rowsPerHead: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = rowsPerHead / 2;
  for (let h = 0; h < heads; h++)
    for (let r = 0; r < rowsPerHead; r++) {
      const dst = h * rowsPerHead + r;
      const src = h * rowsPerHead + (r % 2) * half + (r >> 1);
      out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
    }
  return out;
}
