import { ModelFormatError } from "./errors.js";
import { isObject } from "./json-file.js";
import type { Architecture, ModelConfig, RopeScaling } from "./model-source.js";

// Hugging Face config.json -> ModelConfig. Defaults are transformers' own (LlamaConfig, MistralConfig,
// Qwen2Config) so a config that omits a key means what it means to transformers.

const CLASSES: Record<string, Architecture> = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  Gemma3ForCausalLM: "gemma3",
  Phi3ForCausalLM: "phi3",
};
const MODEL_TYPES: Record<string, Architecture> = {
  llama: "llama",
  mistral: "llama",
  qwen2: "qwen2",
  qwen3: "qwen3",
  gemma3_text: "gemma3",
  phi3: "phi3",
};
const SUPPORTED =
  "supported: llama (LlamaForCausalLM, MistralForCausalLM), qwen2 (Qwen2ForCausalLM), qwen3 (Qwen3ForCausalLM), gemma3 (Gemma3ForCausalLM, text only), phi3 (Phi3ForCausalLM)";

const DEFAULTS: Record<string, { eps: number; ctx: number; vocab: number }> = {
  llama: { eps: 1e-6, ctx: 2048, vocab: 32000 },
  mistral: { eps: 1e-6, ctx: 4096 * 32, vocab: 32000 },
  qwen2: { eps: 1e-6, ctx: 32768, vocab: 151936 },
  qwen3: { eps: 1e-6, ctx: 32768, vocab: 151936 },
  gemma3: { eps: 1e-6, ctx: 131072, vocab: 262208 },
  gemma3_text: { eps: 1e-6, ctx: 131072, vocab: 262208 },
  phi3: { eps: 1e-5, ctx: 4096, vocab: 32064 },
};

export function hfConfig(raw: unknown, name: string, file: string): ModelConfig {
  if (!isObject(raw)) throw new ModelFormatError("bad_config", "config.json is not a JSON object", file);
  const bad = (msg: string) => new ModelFormatError("bad_config", msg, file);
  const archs = raw.architectures;
  const cls = Array.isArray(archs) && typeof archs[0] === "string" ? archs[0] : undefined;
  const modelType = typeof raw.model_type === "string" ? raw.model_type : undefined;
  const arch =
    cls !== undefined ? CLASSES[cls] : modelType !== undefined ? MODEL_TYPES[modelType] : undefined;
  if (!arch)
    throw new ModelFormatError(
      "unsupported_architecture",
      `unsupported architecture ${cls ?? modelType ?? "(none given)"} (${SUPPORTED})`,
      file,
    );
  const family = modelType && DEFAULTS[modelType] ? modelType : arch;
  const d = DEFAULTS[family];

  const num = (key: string, fallback?: number, integer = true): number => {
    const v = raw[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw bad(`config.json has no ${key}`);
      return fallback;
    }
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
      throw bad(
        `${key} is ${JSON.stringify(v)?.slice(0, 40)}; expected ${integer ? "an integer" : "a number"}`,
      );
    }
    return v;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean")
      throw bad(`${key} is ${JSON.stringify(v)?.slice(0, 40)}; expected true or false`);
    return v;
  };

  if (arch !== "qwen2" && flag("attention_bias", false))
    throw bad(
      `attention_bias is true (biases on q/k/v/o projections); only bias-free ${arch} attention is supported`,
    );
  if (flag("mlp_bias", false)) throw bad("mlp_bias is true; MLP biases are not supported");
  const hidden = num("hidden_size");
  const heads = num("num_attention_heads");
  // Qwen3Config's head_dim defaults to 128 and Gemma3TextConfig's to 256, whatever the hidden size.
  const headDim = num(
    "head_dim",
    arch === "qwen3" ? 128 : arch === "gemma3" ? 256 : hidden % heads === 0 ? hidden / heads : 0,
  );
  if (headDim === 0)
    throw bad(`hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}; give head_dim`);
  // Phi-4-mini rotates 0.75 of each head (transformers: int(head_dim * factor)); the readers reorder q/k.
  const partial = num("partial_rotary_factor", 1, false);
  if (partial !== 1 && arch !== "phi3")
    throw bad(`partial_rotary_factor ${partial} is not supported (rotary on the whole head only)`);
  const rotaryDim = Math.floor(headDim * partial);
  let contextLength = num("max_position_embeddings", d.ctx);
  // Qwen2/Qwen3 windows cover only the layers from max_window_layers on, which we do not model:
  // stay within the window rather than be wrong past it. Mistral's covers every layer.
  const window = raw.sliding_window;
  let slidingWindow: number | undefined;
  if (arch === "gemma3") {
    slidingWindow = num("sliding_window", 4096);
  } else if (arch === "qwen2" || arch === "qwen3") {
    if (flag("use_sliding_window", false)) contextLength = Math.min(contextLength, num("sliding_window"));
  } else if (window !== undefined && window !== null) {
    slidingWindow = num("sliding_window");
    if (slidingWindow < 1) throw bad(`sliding_window ${slidingWindow} is not a positive number of tokens`);
  }

  return {
    arch,
    name,
    hiddenSize: hidden,
    intermediateSize: num("intermediate_size"),
    numLayers: num("num_hidden_layers"),
    numHeads: heads,
    numKvHeads: num("num_key_value_heads", heads),
    headDim,
    vocabSize: num("vocab_size", d.vocab),
    contextLength,
    rmsNormEps: num("rms_norm_eps", d.eps, false),
    ropeTheta: num("rope_theta", arch === "gemma3" ? 1e6 : 10000, false),
    ...ropeScaling(raw.rope_scaling, file, {
      rotaryDim,
      maxPositions: num("max_position_embeddings", d.ctx),
      // Phi3Config always has one (default 4096), so transformers never falls back for Phi-3.
      original: raw.original_max_position_embeddings ?? (arch === "phi3" ? 4096 : undefined),
    }),
    ...(rotaryDim !== headDim ? { rotaryDim } : {}),
    ropeInterleaved: false,
    attentionBias: arch === "qwen2",
    tiedEmbeddings: flag("tie_word_embeddings", arch === "gemma3"),
    ...(arch === "qwen3" ? { qkNorm: true } : {}),
    ...(slidingWindow !== undefined && slidingWindow < contextLength ? { slidingWindow } : {}),
    ...(arch === "gemma3" ? gemma3(raw, hidden, num, bad) : {}),
  };
}

/**
 * Gemma3TextConfig's attention and FFN (transformers' defaults): alternating local and global
 * layers (layer_types, or every sliding_window_pattern-th layer global), the local layers' own
 * rotary base, queries scaled by query_pre_attn_scalar^-½, embeddings by √hidden, GeGLU with the
 * tanh GELU, q/k norms and post-norms. Attention-logit soft-capping (Gemma 2) is refused.
 */
function gemma3(
  raw: Record<string, unknown>,
  hidden: number,
  num: (key: string, fallback?: number, integer?: boolean) => number,
  bad: (msg: string) => ModelFormatError,
): Partial<ModelConfig> {
  const layers = num("num_hidden_layers");
  const types = raw.layer_types;
  let sliding: boolean[];
  if (Array.isArray(types)) {
    if (types.length !== layers || !types.every((t) => t === "sliding_attention" || t === "full_attention"))
      throw bad(
        `layer_types must list "sliding_attention" or "full_attention" for each of the ${layers} layers`,
      );
    sliding = types.map((t) => t === "sliding_attention");
  } else {
    const pattern = num("sliding_window_pattern", 6);
    sliding = Array.from({ length: layers }, (_, l) => (l + 1) % pattern !== 0);
  }
  const act = raw.hidden_activation ?? raw.hidden_act ?? "gelu_pytorch_tanh";
  if (act !== "gelu_pytorch_tanh" && act !== "gelu_tanh")
    throw bad(`hidden_activation ${JSON.stringify(act)} is not supported (supported: gelu_pytorch_tanh)`);
  if (raw.attn_logit_softcapping !== undefined && raw.attn_logit_softcapping !== null)
    throw bad("attn_logit_softcapping is set; attention-logit soft-capping is not supported");
  const softcap = raw.final_logit_softcapping;
  return {
    qkNorm: true,
    postNorms: true,
    activation: "gelu_tanh",
    embedScale: Math.fround(Math.sqrt(hidden)),
    attentionScale: 1 / Math.sqrt(num("query_pre_attn_scalar", 256, false)),
    slidingWindowLayers: sliding,
    ropeLocalTheta: num("rope_local_base_freq", 10000, false),
    ...(softcap !== undefined && softcap !== null
      ? { finalLogitSoftcap: num("final_logit_softcapping", 0, false) }
      : {}),
  };
}

function ropeScaling(
  v: unknown,
  file: string,
  model: { rotaryDim: number; maxPositions: number; original: unknown },
): { ropeScaling?: RopeScaling } {
  if (v === undefined || v === null) return {};
  const bad = (msg: string) => new ModelFormatError("bad_config", `rope_scaling: ${msg}`, file);
  if (!isObject(v)) throw bad("expected an object");
  const type = v.rope_type ?? v.type;
  const n = (k: string, fallback?: number): number => {
    const x = v[k] ?? fallback;
    if (typeof x !== "number" || !Number.isFinite(x) || x <= 0)
      throw bad(`${k} is ${JSON.stringify(x)}; expected a positive number`);
    return x;
  };
  if (type === "default") return {};
  if (type === "linear") return { ropeScaling: { type: "linear", factor: n("factor") } };
  if (type === "llama3") {
    return {
      ropeScaling: {
        type: "llama3",
        factor: n("factor"),
        lowFreqFactor: n("low_freq_factor"),
        highFreqFactor: n("high_freq_factor"),
        originalContextLength: n("original_max_position_embeddings"),
      },
    };
  }
  if (type === "longrope" || type === "su") return { ropeScaling: longRope(v, model, bad) };
  throw bad(`type ${JSON.stringify(type)} is not supported (supported: linear, llama3, longrope)`);
}

/**
 * Phi-3's LongRoPE as transformers reads it (_compute_longrope_parameters): the original context
 * from the config's top level (else rope_scaling's factor against max_position_embeddings), and an
 * attention factor sqrt(1 + ln(factor) / ln(original)) unless rope_scaling gives one.
 */
function longRope(
  v: Record<string, unknown>,
  model: { rotaryDim: number; maxPositions: number; original: unknown },
  bad: (msg: string) => ModelFormatError,
): RopeScaling {
  const factors = (key: string): number[] => {
    const f = v[key];
    if (!Array.isArray(f) || !f.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0))
      throw bad(`${key} is not a list of positive numbers`);
    if (f.length !== model.rotaryDim / 2)
      throw bad(`${key} has ${f.length} values, expected ${model.rotaryDim / 2} (one per rotating pair)`);
    return f as number[];
  };
  let original: number;
  let factor: number;
  if (model.original !== undefined && model.original !== null) {
    if (typeof model.original !== "number" || !Number.isSafeInteger(model.original) || model.original <= 0)
      throw bad(
        `original_max_position_embeddings is ${JSON.stringify(model.original)}; expected a positive integer`,
      );
    original = model.original;
    factor = model.maxPositions / original;
  } else {
    original = model.maxPositions;
    factor = typeof v.factor === "number" ? v.factor : 1;
  }
  const given = v.attention_factor;
  if (given !== undefined && given !== null && (typeof given !== "number" || !(given > 0)))
    throw bad(`attention_factor is ${JSON.stringify(given)}; expected a positive number`);
  const attentionFactor =
    typeof given === "number"
      ? given
      : factor <= 1
        ? 1
        : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  return {
    type: "longrope",
    shortFactor: factors("short_factor"),
    longFactor: factors("long_factor"),
    originalContextLength: original,
    attentionFactor,
  };
}
