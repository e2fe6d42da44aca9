// Writes safetensors files and small Hugging Face model folders for tests and the fuzzer.

import type { ModelConfig, TensorName } from "../formats/model-source.js";
import { encodeTensor, hfPermute, type TinyModel } from "./tiny-models.js";

export interface StTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** safetensors bytes: u64 header length, space-padded JSON header, then the data in order. */
export function writeSafetensors(
  tensors: StTensor[],
  header?: (h: Record<string, unknown>) => Record<string, unknown>,
): Uint8Array {
  let h: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  for (const t of tensors) {
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.length] };
    off += t.data.length;
  }
  if (header) h = header(h);
  let json = JSON.stringify(h);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let o = 8 + hb.length;
  for (const t of tensors) {
    out.set(t.data, o);
    o += t.data.length;
  }
  return out;
}

const HF_LAYER: Record<string, string> = {
  attn_norm: "input_layernorm.weight",
  wq: "self_attn.q_proj.weight",
  wk: "self_attn.k_proj.weight",
  wv: "self_attn.v_proj.weight",
  wo: "self_attn.o_proj.weight",
  bq: "self_attn.q_proj.bias",
  bk: "self_attn.k_proj.bias",
  bv: "self_attn.v_proj.bias",
  q_norm: "self_attn.q_norm.weight",
  k_norm: "self_attn.k_norm.weight",
  ffn_norm: "post_attention_layernorm.weight",
  w_gate: "mlp.gate_proj.weight",
  w_up: "mlp.up_proj.weight",
  w_down: "mlp.down_proj.weight",
};
export function hfTensorName(n: TensorName, arch = "llama"): string {
  if (n === "embed") return "model.embed_tokens.weight";
  if (n === "final_norm") return "model.norm.weight";
  if (n === "lm_head") return "lm_head.weight";
  const [, i, t] = n.split(".");
  return `model.layers.${i}.${(arch === "gemma3" ? GEMMA_LAYER : HF_LAYER)[t]}`;
}

/** The tensors of a tiny model as HF stores them (llama q/k rows permuted to half-split). */
export function hfTensors(m: TinyModel, dtype = "F32"): StTensor[] {
  const c = m.config;
  return [...m.tensors].map(([n, t]) => {
    let data = t.data;
    if (c.arch === "llama" && (n.endsWith(".wq") || n.endsWith(".wk"))) {
      data = hfPermute(data, n.endsWith(".wq") ? c.numHeads : c.numKvHeads, c.headDim, c.hiddenSize);
    }
    // Gemma stores norm weights w of (1 + w); the canonical (and GGUF) form holds 1 + w.
    if (c.arch === "gemma3" && /norm$/.test(n)) data = data.map((v) => v - 1);
    return { name: hfTensorName(n, c.arch), dtype, shape: t.shape, data: encodeTensor(dtype, data, 0) };
  });
}

const HF_CLASSES: Record<ModelConfig["arch"], string> = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
  // Phi-3 stores fused matrices: its folders come from phi3-writer.ts.
  phi3: "Phi3ForCausalLM",
  gemma3: "Gemma3ForCausalLM",
};
const GEMMA_LAYER: Record<string, string> = {
  ...HF_LAYER,
  post_attn_norm: "post_attention_layernorm.weight",
  ffn_norm: "pre_feedforward_layernorm.weight",
  post_ffn_norm: "post_feedforward_layernorm.weight",
};

export function hfConfigJson(m: TinyModel): Record<string, unknown> {
  const c = m.config;
  return {
    // Llama with a sliding window is Mistral.
    architectures: [c.arch === "llama" && c.slidingWindow ? "MistralForCausalLM" : HF_CLASSES[c.arch]],
    model_type:
      c.arch === "llama" && c.slidingWindow ? "mistral" : c.arch === "gemma3" ? "gemma3_text" : c.arch,
    ...(c.arch === "gemma3"
      ? {
          layer_types: c.slidingWindowLayers!.map((s) => (s ? "sliding_attention" : "full_attention")),
          rope_local_base_freq: c.ropeLocalTheta,
          query_pre_attn_scalar: c.attentionScale! ** -2,
          hidden_activation: "gelu_pytorch_tanh",
          final_logit_softcapping: c.finalLogitSoftcap ?? null,
        }
      : {}),
    ...(c.slidingWindow ? { sliding_window: c.slidingWindow } : {}),
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.contextLength,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tiedEmbeddings,
    torch_dtype: "float32",
  };
}

export function hfTokenizerJson(m: TinyModel): Record<string, unknown> {
  return {
    version: "1.0",
    added_tokens: [{ id: 1, content: "<s>", special: true }],
    model: { type: "BPE", vocab: Object.fromEntries(m.pieces.map((p, i) => [p, i])), merges: [] },
  };
}

/** Files of a tiny HF folder; `shards` > 1 splits the tensors over model-0000i-of-0000n.safetensors + index. */
export function tinyHfFolder(
  m: TinyModel,
  opts: { dtype?: string; shards?: number } = {},
): Record<string, Uint8Array | string> {
  const tensors = hfTensors(m, opts.dtype);
  const files: Record<string, Uint8Array | string> = {
    "config.json": JSON.stringify(hfConfigJson(m), null, 2),
    "tokenizer.json": JSON.stringify(hfTokenizerJson(m)),
    "tokenizer_config.json": JSON.stringify({
      add_bos_token: true,
      chat_template: "{% for m in messages %}{{ m.content }}{% endfor %}",
    }),
  };
  const n = opts.shards ?? 1;
  if (n === 1) {
    files["model.safetensors"] = writeSafetensors(tensors);
    return files;
  }
  const weightMap: Record<string, string> = {};
  const pad = (i: number) => String(i).padStart(5, "0");
  for (let s = 0; s < n; s++) {
    const part = tensors.filter((_, i) => i % n === s);
    const name = `model-${pad(s + 1)}-of-${pad(n)}.safetensors`;
    files[name] = writeSafetensors(part);
    for (const t of part) weightMap[t.name] = name;
  }
  files["model.safetensors.index.json"] = JSON.stringify({ metadata: {}, weight_map: weightMap });
  return files;
}
