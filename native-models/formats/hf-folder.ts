import { readdir } from "node:fs/promises";
import path from "node:path";
import { BinaryFile, fsError } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { hfConfig } from "./hf-config.js";
import { isObject, readJsonFile } from "./json-file.js";
import { checkConfig, checkTensors } from "./model-check.js";
import { fusedOf, partsReader, splitFused, type Located } from "./fused-tensors.js";
import type { LayerTensor, ModelSource, TensorInfo, TensorName, TokenizerSource } from "./model-source.js";
import { READABLE_DTYPES, parseSafetensors, type SafetensorsTensor } from "./safetensors.js";
import { readWithGrid } from "./tensor-read.js";

// A Hugging Face model folder: config.json, model.safetensors (or shards + index), tokenizer.json and
// tokenizer_config.json. q/k rows stay in HF's half-split rotary order (ropeInterleaved = false).

const MAX_SHARDS = 1024;
const LAYER_NAMES: Record<string, LayerTensor> = {
  "input_layernorm.weight": "attn_norm",
  "self_attn.q_proj.weight": "wq",
  "self_attn.k_proj.weight": "wk",
  "self_attn.v_proj.weight": "wv",
  "self_attn.o_proj.weight": "wo",
  "self_attn.q_proj.bias": "bq",
  "self_attn.k_proj.bias": "bk",
  "self_attn.v_proj.bias": "bv",
  "self_attn.q_norm.weight": "q_norm",
  "self_attn.k_norm.weight": "k_norm",
  "post_attention_layernorm.weight": "ffn_norm",
  "mlp.gate_proj.weight": "w_gate",
  "mlp.up_proj.weight": "w_up",
  "mlp.down_proj.weight": "w_down",
};
/**
 * Gemma 2/3 name their four layer norms differently: post_attention_layernorm is the norm on the
 * attention output, pre_feedforward_layernorm the one before the FFN.
 */
const GEMMA_LAYER_NAMES: Record<string, LayerTensor> = {
  ...Object.fromEntries(Object.entries(LAYER_NAMES).filter(([, c]) => c !== "ffn_norm")),
  "post_attention_layernorm.weight": "post_attn_norm",
  "pre_feedforward_layernorm.weight": "ffn_norm",
  "post_feedforward_layernorm.weight": "post_ffn_norm",
};
const GLOBAL_NAMES: Record<string, TensorName> = {
  "model.embed_tokens.weight": "embed",
  "model.norm.weight": "final_norm",
  "lm_head.weight": "lm_head",
};

function canonical(name: string, layerNames: Record<string, LayerTensor>): TensorName | undefined {
  if (GLOBAL_NAMES[name]) return GLOBAL_NAMES[name];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  const t = m && layerNames[m[2]];
  return m && t ? `layers.${Number(m[1])}.${t}` : undefined;
}

function hfName(n: TensorName, layerNames: Record<string, LayerTensor>): string {
  for (const [h, c] of Object.entries(GLOBAL_NAMES)) if (c === n) return h;
  const m = /^layers\.(\d+)\.(.+)$/.exec(n);
  const suffix = m && Object.entries(layerNames).find(([, c]) => c === m[2])?.[0];
  return m && suffix ? `model.layers.${m[1]}.${suffix}` : n;
}

/** Gemma's RMSNorm multiplies by (1 + weight): every norm weight, q/k norms included. */
function isGemmaNorm(n: TensorName): boolean {
  return /norm$/.test(n);
}

export async function openHfFolder(dir: string): Promise<ModelSource> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw fsError(e, dir);
  }
  const configPath = path.join(dir, "config.json");
  const raw = await readJsonFile(configPath, { maxBytes: 16 << 20, code: "bad_config", what: "config.json" });
  const config = hfConfig(raw, folderModelName(raw, path.basename(path.resolve(dir))), configPath);
  checkConfig(config, configPath);
  const gemma = config.arch === "gemma3";
  const layerNames = gemma ? GEMMA_LAYER_NAMES : LAYER_NAMES;
  const nameOf = (n: TensorName) => {
    // A missing Phi-3 part is named by the fused matrix the folder should hold.
    const part = config.arch === "phi3" ? fusedOf(n) : undefined;
    if (part)
      return `model.layers.${part[0]}.${part[1] === "qkv" ? "self_attn.qkv_proj" : "mlp.gate_up_proj"}.weight`;
    return hfName(n, layerNames);
  };

  const shardFiles = await weightFiles(dir, names);
  const files: BinaryFile[] = [];
  try {
    const all = new Map<string, SafetensorsTensor>();
    for (const s of shardFiles.files) {
      const f = await BinaryFile.open(path.join(dir, s));
      files.push(f);
      for (const [n, t] of (await parseSafetensors(f)).tensors) {
        if (all.has(n))
          throw new ModelFormatError("bad_tensor", `tensor ${n} is stored in two shards`, f.path);
        all.set(n, t);
      }
    }
    for (const [n, s] of shardFiles.map ?? []) {
      if (all.get(n)?.file.path !== path.join(dir, s)) {
        throw new ModelFormatError(
          "missing_tensor",
          `model.safetensors.index.json puts ${n} in ${s}, but that shard does not hold it`,
          dir,
        );
      }
    }
    const found = new Map<TensorName, TensorInfo>();
    const where = new Map<TensorName, Located<SafetensorsTensor>>();
    const add = (c: TensorName, info: TensorInfo, at: Located<SafetensorsTensor>) => {
      // "layers.01" and "layers.1" would both land here: refuse rather than pick one.
      if (found.has(c))
        throw new ModelFormatError(
          "bad_tensor",
          `tensors ${where.get(c)!.source.name} and ${at.source.name} are both ${c}`,
          at.source.file.path,
        );
      found.set(c, info);
      where.set(c, at);
    };
    for (const t of all.values()) {
      // Phi-3's fused projections (fused-tensors.ts).
      const fused = /^model\.layers\.(\d+)\.(self_attn\.qkv_proj|mlp\.gate_up_proj)\.weight$/.exec(t.name);
      if (fused && config.arch === "phi3") {
        const kind = fused[2] === "mlp.gate_up_proj" ? "gate_up" : "qkv";
        const info = { name: t.name, shape: t.shape, sourceType: t.dtype, source: t };
        for (const part of splitFused(config, Number(fused[1]), kind, info, t.file.path)) add(...part);
        continue;
      }
      const c = canonical(t.name, layerNames);
      if (c) add(c, { name: c, shape: t.shape, sourceType: t.dtype }, { source: t });
    }
    const tensors = checkTensors(config, found, nameOf, dir);
    for (const t of tensors.values()) {
      if (!READABLE_DTYPES.includes(t.sourceType)) {
        throw new ModelFormatError(
          "unsupported_type",
          `tensor ${nameOf(t.name)} has dtype ${t.sourceType} (supported: ${READABLE_DTYPES.join(", ")})`,
          where.get(t.name)!.source.file.path,
        );
      }
    }
    const tokenizer = await hfTokenizer(dir, names);
    const read = partsReader(config, tensors, (t: SafetensorsTensor) =>
      readWithGrid(t.file, t.offset, t.dtype, t.nElements, t.name),
    );
    let closed = false;
    return {
      format: "hf",
      path: dir,
      config,
      tokenizer,
      tensors,
      async readTensor(name) {
        if (closed) throw new Error(`readTensor(${name}) after close()`);
        const at = tensors.has(name) ? where.get(name) : undefined;
        if (!at) throw new ModelFormatError("missing_tensor", `no tensor ${name} in this model`, dir);
        const data = (await read(name, at)).values;
        if (gemma && isGemmaNorm(name)) for (let i = 0; i < data.length; i++) data[i] += 1;
        return data;
      },
      async close() {
        closed = true;
        await Promise.all(files.map((f) => f.close()));
      },
    };
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
}

const SAFE_SHARD = /^[\w][\w.-]*\.safetensors$/;

async function weightFiles(
  dir: string,
  names: string[],
): Promise<{ files: string[]; map?: Map<string, string> }> {
  const present = new Set(names);
  const indexPath = path.join(dir, "model.safetensors.index.json");
  if (names.includes("model.safetensors.index.json")) {
    const idx = await readJsonFile(indexPath, {
      maxBytes: 64 << 20,
      code: "bad_metadata",
      what: "model.safetensors.index.json",
    });
    const wm = isObject(idx) ? idx.weight_map : undefined;
    if (!isObject(wm))
      throw new ModelFormatError(
        "bad_metadata",
        "model.safetensors.index.json has no weight_map object",
        indexPath,
      );
    const map = new Map<string, string>();
    for (const [n, s] of Object.entries(wm)) {
      // Shard names come from the file: never let them point outside the folder.
      if (typeof s !== "string" || !SAFE_SHARD.test(s) || s.includes("..")) {
        throw new ModelFormatError(
          "bad_metadata",
          `weight_map entry for ${n} is ${JSON.stringify(s)?.slice(0, 60)}, not a .safetensors file in this folder`,
          indexPath,
        );
      }
      if (!present.has(s))
        throw new ModelFormatError(
          "not_found",
          `shard ${s} named in model.safetensors.index.json is missing`,
          dir,
        );
      map.set(n, s);
    }
    const files = [...new Set(map.values())].sort();
    if (files.length > MAX_SHARDS)
      throw new ModelFormatError("too_large", `${files.length} shards (limit ${MAX_SHARDS})`, indexPath);
    return { files, map };
  }
  if (names.includes("model.safetensors")) return { files: ["model.safetensors"] };
  const shards = names.filter((n) => /^model-\d+-of-\d+\.safetensors$/.test(n)).sort();
  if (shards.length > 0 && shards.length <= MAX_SHARDS) return { files: shards };
  if (names.some((n) => /^pytorch_model.*\.bin$/.test(n))) {
    throw new ModelFormatError(
      "unknown_format",
      "PyTorch .bin weights are not supported; this reader needs model.safetensors (save the model with safe_serialization=True)",
      dir,
    );
  }
  throw new ModelFormatError(
    "not_found",
    "no weights found: expected model.safetensors, or model-0000x-of-0000y.safetensors shards with model.safetensors.index.json",
    dir,
  );
}

async function hfTokenizer(dir: string, names: string[]): Promise<TokenizerSource> {
  if (!names.includes("tokenizer.json")) return { kind: "none" };
  const tjPath = path.join(dir, "tokenizer.json");
  const tokenizerJson = await readJsonFile(tjPath, {
    maxBytes: 100 << 20,
    code: "bad_tokenizer",
    what: "tokenizer.json",
  });
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model))
    throw new ModelFormatError("bad_tokenizer", "tokenizer.json has no model object", tjPath);
  if (!names.includes("tokenizer_config.json")) return { kind: "hf", tokenizerJson };
  const tcPath = path.join(dir, "tokenizer_config.json");
  const tokenizerConfig = await readJsonFile(tcPath, {
    maxBytes: 20 << 20,
    code: "bad_tokenizer",
    what: "tokenizer_config.json",
  });
  if (!isObject(tokenizerConfig))
    throw new ModelFormatError("bad_tokenizer", "tokenizer_config.json is not a JSON object", tcPath);
  const ct = tokenizerConfig.chat_template;
  if (
    ct !== undefined &&
    ct !== null &&
    typeof ct !== "string" &&
    !(Array.isArray(ct) && ct.every((t) => isObject(t) && typeof t.template === "string"))
  ) {
    throw new ModelFormatError(
      "bad_tokenizer",
      "chat_template is neither a string nor a list of {name, template}",
      tcPath,
    );
  }
  return { kind: "hf", tokenizerJson, tokenizerConfig };
}

/** Folder names that say nothing about the model (what people call the folder they download into). */
const GENERIC_FOLDER = /^(hf|model|models|weights|checkpoint|snapshot|main|[0-9a-f]{40})$/i;

/**
 * A folder's model name: the name it was saved under (config.json's `_name_or_path`, e.g.
 * "Qwen/Qwen2.5-0.5B-Instruct" → "Qwen2.5-0.5B-Instruct"), else the folder's own name unless that
 * is a generic one like "hf", else what the config describes ("llama 5 layers × 64").
 */
export function folderModelName(config: unknown, folder: string): string {
  const c = (config && typeof config === "object" ? config : {}) as Record<string, unknown>;
  const saved = typeof c._name_or_path === "string" ? c._name_or_path.trim() : "";
  const last = saved.split(/[\\/]/).filter(Boolean).pop();
  if (last && !GENERIC_FOLDER.test(last)) return last;
  if (!GENERIC_FOLDER.test(folder)) return folder;
  const type = typeof c.model_type === "string" ? c.model_type : "model";
  const layers = typeof c.num_hidden_layers === "number" ? c.num_hidden_layers : "?";
  const width = typeof c.hidden_size === "number" ? c.hidden_size : "?";
  return `${type} ${layers} layers × ${width}`;
}
