import path from "node:path";
import { BinaryFile } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { GgufKeys, longRopeFromGguf, ropeScalingFromFreqs, ropeScalingFromKeys } from "./gguf-config.js";
import {
  fusedOf,
  partsReader,
  reordersRows,
  rowsInReadOrder,
  splitFused,
  type Located,
} from "./fused-tensors.js";
import { parseGguf, type GgufTensorInfo } from "./gguf-parse.js";
import { DEQUANT_TYPES, dequantLayout } from "./gguf-dequant.js";
import { checkConfig, checkTensors } from "./model-check.js";
import {
  SUPPORTED_ARCHITECTURES,
  type Architecture,
  type LayerTensor,
  type ModelConfig,
  type ModelSource,
  type TensorInfo,
  type TensorName,
} from "./model-source.js";
import { checkBlockScales, readDequantized, readWithGrid } from "./tensor-read.js";

// A GGUF file (llama.cpp) as a ModelSource: `llama`, `qwen2`, `qwen3`, `gemma3` and `phi3` architectures.

const LAYER_NAMES: Record<string, LayerTensor> = {
  "attn_norm.weight": "attn_norm",
  "attn_q.weight": "wq",
  "attn_k.weight": "wk",
  "attn_v.weight": "wv",
  "attn_output.weight": "wo",
  "attn_q.bias": "bq",
  "attn_k.bias": "bk",
  "attn_v.bias": "bv",
  "attn_q_norm.weight": "q_norm",
  "attn_k_norm.weight": "k_norm",
  "post_attention_norm.weight": "post_attn_norm",
  "post_ffw_norm.weight": "post_ffn_norm",
  "ffn_norm.weight": "ffn_norm",
  "ffn_gate.weight": "w_gate",
  "ffn_up.weight": "w_up",
  "ffn_down.weight": "w_down",
};
const GLOBAL_NAMES: Record<string, TensorName> = {
  "token_embd.weight": "embed",
  "output_norm.weight": "final_norm",
  "output.weight": "lm_head",
};

function ggufName(n: TensorName): string {
  for (const [g, c] of Object.entries(GLOBAL_NAMES)) if (c === n) return g;
  const m = /^layers\.(\d+)\.(.+)$/.exec(n);
  const suffix = m && Object.entries(LAYER_NAMES).find(([, c]) => c === m[2])?.[0];
  return m && suffix ? `blk.${m[1]}.${suffix}` : n;
}

function canonical(name: string): TensorName | undefined {
  if (GLOBAL_NAMES[name]) return GLOBAL_NAMES[name];
  const m = /^blk\.(\d+)\.(.+)$/.exec(name);
  const t = m && LAYER_NAMES[m[2]];
  return m && t ? `layers.${Number(m[1])}.${t}` : undefined;
}

export async function openGguf(filePath: string): Promise<ModelSource> {
  const file = await BinaryFile.open(filePath);
  try {
    return await build(file, filePath);
  } catch (e) {
    await file.close();
    throw e;
  }
}

async function build(file: BinaryFile, filePath: string): Promise<ModelSource> {
  const g = await parseGguf(file, true);
  const k = new GgufKeys(g.metadata, filePath);
  const arch = k.str("general.architecture");
  if (arch === undefined)
    throw new ModelFormatError("bad_metadata", "general.architecture is missing", filePath);
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new ModelFormatError(
      "unsupported_architecture",
      `unsupported architecture ${arch} (supported: ${SUPPORTED_ARCHITECTURES.join(", ")})`,
      filePath,
    );
  }
  if (k.int(`${arch}.expert_count`, 0) > 0) {
    throw new ModelFormatError(
      "unsupported_architecture",
      `mixture-of-experts ${arch} models are not supported (supported: dense ${SUPPORTED_ARCHITECTURES.join(", ")})`,
      filePath,
    );
  }
  const embed = g.tensors.get("token_embd.weight");
  if (!embed) throw new ModelFormatError("missing_tensor", "tensor token_embd.weight is missing", filePath);
  if (embed.ne.length !== 2)
    throw new ModelFormatError(
      "bad_tensor",
      `token_embd.weight has ${embed.ne.length} dimensions, expected 2`,
      filePath,
    );

  const hidden = k.int(`${arch}.embedding_length`);
  const heads = k.int(`${arch}.attention.head_count`);
  const headDim = k.int(`${arch}.attention.key_length`, hidden % heads === 0 ? hidden / heads : 0);
  if (headDim === 0)
    throw new ModelFormatError(
      "bad_config",
      `embedding length ${hidden} is not a multiple of ${heads} heads`,
      filePath,
    );
  if (k.int(`${arch}.attention.value_length`, headDim) !== headDim) {
    throw new ModelFormatError(
      "bad_config",
      "different key and value head sizes are not supported",
      filePath,
    );
  }
  const ropeDims = k.int(`${arch}.rope.dimension_count`, headDim);
  // Phi-4-mini rotates 96 of 128 dimensions; the readers reorder its q/k rows (fused-tensors.ts).
  if (ropeDims !== headDim && arch !== "phi3") {
    throw new ModelFormatError(
      "bad_config",
      `rotary embedding on ${ropeDims} of ${headDim} head dimensions (partial rotary) is not supported`,
      filePath,
    );
  }
  const tokens = g.metadata.get("tokenizer.ggml.tokens");
  const vocabSize = embed.ne[1];
  if (Array.isArray(tokens) && tokens.length > vocabSize) {
    throw new ModelFormatError(
      "bad_tensor",
      `the tokenizer has ${tokens.length} tokens but token_embd.weight has only ${vocabSize} rows`,
      filePath,
    );
  }
  const ropeTheta = k.float(`${arch}.rope.freq_base`, 10000);
  const contextLength = k.int(`${arch}.context_length`);
  let ropeScaling =
    arch === "phi3"
      ? await longRopeFromGguf(k, arch, g.tensors, ropeDims, (t) =>
          readDequantized(file, t.offset, t.type.name, t.nElements, t.name),
        )
      : ropeScalingFromKeys(k, arch);
  const freqs = g.tensors.get("rope_freqs.weight");
  if (freqs) {
    if (freqs.nElements !== headDim / 2)
      throw new ModelFormatError(
        "bad_tensor",
        `rope_freqs.weight has ${freqs.nElements} values, expected ${headDim / 2}`,
        filePath,
      );
    const f = await readDequantized(
      file,
      freqs.offset,
      freqs.type.name,
      freqs.nElements,
      "rope_freqs.weight",
    );
    const orig = k.int(`${arch}.rope.scaling.original_context_length`, 8192);
    ropeScaling = ropeScalingFromFreqs(f, headDim, ropeTheta, orig, filePath) ?? ropeScaling;
  }

  // llama.cpp's key for Mistral-style windows; its own `llama` graph ignores it, we do not.
  const window = k.int(`${arch}.attention.sliding_window`, 0);
  const config: ModelConfig = {
    arch: arch as Architecture,
    name: k.str("general.name") ?? path.basename(filePath).replace(/\.gguf$/i, ""),
    hiddenSize: hidden,
    intermediateSize: k.int(`${arch}.feed_forward_length`),
    numLayers: k.int(`${arch}.block_count`),
    numHeads: heads,
    numKvHeads: k.int(`${arch}.attention.head_count_kv`, heads),
    headDim,
    vocabSize,
    contextLength,
    rmsNormEps: k.float(`${arch}.attention.layer_norm_rms_epsilon`),
    ropeTheta,
    ...(ropeScaling ? { ropeScaling } : {}),
    ...(ropeDims !== headDim ? { rotaryDim: ropeDims } : {}),
    // llama.cpp's HF converter permutes llama q/k into adjacent-pair order; the others keep HF's half-split (NEOX rope).
    ropeInterleaved: arch === "llama",
    attentionBias: g.tensors.has("blk.0.attn_q.bias"),
    tiedEmbeddings: !g.tensors.has("output.weight"),
    ...(arch === "qwen3" ? { qkNorm: true } : {}),
    // A window as long as the context changes nothing (as the HF reader decides too).
    ...(window > 0 && window < contextLength ? { slidingWindow: window } : {}),
    ...(arch === "gemma3" ? gemma3Config(k, hidden, headDim, window, filePath) : {}),
  };
  checkConfig(config, filePath);

  const found = new Map<TensorName, TensorInfo>();
  const where = new Map<TensorName, Located<GgufTensorInfo>>();
  const add = (c: TensorName, info: TensorInfo, at: Located<GgufTensorInfo>) => {
    // "blk.01" and "blk.1" would both land here: refuse rather than pick one.
    if (found.has(c))
      throw new ModelFormatError(
        "bad_tensor",
        `tensors ${where.get(c)!.source.name} and ${at.source.name} are both ${c}`,
        filePath,
      );
    found.set(c, info);
    where.set(c, at);
  };
  for (const t of g.tensors.values()) {
    const shape = [...t.ne].reverse();
    const fused = arch === "phi3" ? /^blk\.(\d+)\.(attn_qkv|ffn_up)\.weight$/.exec(t.name) : null;
    if (fused) {
      const kind = fused[2] === "attn_qkv" ? "qkv" : "gate_up";
      const info = { name: t.name, shape, sourceType: t.type.name, source: t };
      for (const part of splitFused(config, Number(fused[1]), kind, info, filePath)) add(...part);
      continue;
    }
    const c = canonical(t.name);
    if (c) add(c, { name: c, shape, sourceType: t.type.name }, { source: t });
  }
  // A missing Phi-3 part is named by the fused matrix the file should hold.
  const sourceName = (n: TensorName) => {
    const part = arch === "phi3" ? fusedOf(n) : undefined;
    return part ? `blk.${part[0]}.${part[1] === "qkv" ? "attn_qkv" : "ffn_up"}.weight` : ggufName(n);
  };
  const tensors = checkTensors(config, found, sourceName, filePath);
  for (const t of tensors.values()) {
    if (!DEQUANT_TYPES.includes(t.sourceType)) {
      throw new ModelFormatError(
        "unsupported_type",
        `tensor ${ggufName(t.name)} is ${t.sourceType} (supported: ${DEQUANT_TYPES.join(", ")})`,
        filePath,
      );
    }
  }

  // general.name too: llama.cpp gives Phi-3's special tokens their attributes by the model's name.
  const tokenizerKeys = new Map(
    [...g.metadata].filter(([key]) => key.startsWith("tokenizer.") || key === "general.name"),
  );
  const read = partsReader(config, tensors, (t: GgufTensorInfo) =>
    readWithGrid(file, t.offset, t.type.name, t.nElements, t.name),
  );
  let closed = false;
  const readTensorWithGrid = async (name: TensorName) => {
    if (closed) throw new Error(`readTensor(${name}) after close()`);
    const at = tensors.has(name) ? where.get(name) : undefined;
    if (!at) throw new ModelFormatError("missing_tensor", `no tensor ${name} in this model`, filePath);
    return read(name, at);
  };
  return {
    format: "gguf",
    path: filePath,
    config,
    tokenizer: [...tokenizerKeys.keys()].some((key) => key.startsWith("tokenizer."))
      ? { kind: "gguf", metadata: tokenizerKeys }
      : { kind: "none" },
    tensors,
    async readTensor(name) {
      return (await readTensorWithGrid(name)).values;
    },
    readTensorWithGrid,
    async readTensorBlocks(name) {
      if (closed) throw new Error(`readTensorBlocks(${name}) after close()`);
      const at = tensors.has(name) ? where.get(name) : undefined;
      const layout = at && dequantLayout(at.source.type.name);
      if (!at || !layout) return undefined;
      const t = at.source;
      // A fused tensor's part is a run of its rows: whole blocks, since a row is.
      const rowBytes = (t.ne[0] / layout.blockSize) * layout.typeSize;
      const rows = t.nElements / t.ne[0];
      const { start, rows: count } = at.range ?? { start: 0, rows };
      const bytes = new Uint8Array(count * rowBytes);
      await file.readInto(bytes, t.offset + start * rowBytes, `tensor ${t.name}`);
      checkBlockScales(t.type.name, bytes, t.name, filePath);
      return { type: t.type.name, bytes: rowsInReadOrder(config, name, bytes, rowBytes) };
    },
    locateTensorBlocks(name) {
      const at = tensors.has(name) ? where.get(name) : undefined;
      const layout = at && dequantLayout(at.source.type.name);
      if (!at || !layout || reordersRows(config, name)) return undefined;
      const t = at.source;
      const rowBytes = (t.ne[0] / layout.blockSize) * layout.typeSize;
      const { start, rows } = at.range ?? { start: 0, rows: t.nElements / t.ne[0] };
      return { type: t.type.name, rows, file: filePath, offset: t.offset + start * rowBytes };
    },
    async close() {
      closed = true;
      await file.close();
    },
  };
}

/**
 * What llama.cpp's gemma3 graph hard-codes beside the file's keys: five sliding-window layers to
 * one global, local rotary base 10000 (or rope.freq_base_swa), embeddings times √hidden, GeGLU,
 * norms after attention and FFN, q/k norms, and queries scaled by 1/√head_dim (27B's 62 layers:
 * 1/√(hidden/heads), its query_pre_attn_scalar). Norm weights are stored with Gemma's +1 applied
 * by llama.cpp's converter, so they read as plain RMSNorm weights.
 */
function gemma3Config(
  k: GgufKeys,
  hidden: number,
  headDim: number,
  window: number,
  file: string,
): Partial<ModelConfig> {
  if (window <= 0)
    throw new ModelFormatError("bad_config", "gemma3.attention.sliding_window is missing", file);
  const layers = k.int("gemma3.block_count");
  const heads = k.int("gemma3.attention.head_count");
  const softcap = k.float("gemma3.final_logit_softcapping", 0);
  return {
    qkNorm: true,
    postNorms: true,
    activation: "gelu_tanh",
    embedScale: Math.fround(Math.sqrt(hidden)),
    attentionScale: 1 / Math.sqrt(layers === 62 ? hidden / heads : headDim),
    slidingWindowLayers: Array.from({ length: layers }, (_, l) => l % 6 < 5),
    ropeLocalTheta: k.float("gemma3.rope.freq_base_swa", 10000),
    ...(softcap > 0 ? { finalLogitSoftcap: softcap } : {}),
  };
}
