import { ModelFormatError } from "./errors.js";
import type { LayerTensor, ModelConfig, TensorInfo, TensorName } from "./model-source.js";

// Checks shared by every reader, so the three formats fail the same way: the config is sane, and
// every tensor the converter will ask for exists with the shape the config implies.

const INT_LIMITS: [keyof ModelConfig, number][] = [
  ["hiddenSize", 1 << 17],
  ["intermediateSize", 1 << 20],
  ["numLayers", 1024],
  ["numHeads", 4096],
  ["numKvHeads", 4096],
  ["headDim", 4096],
  ["vocabSize", 1 << 24],
  ["contextLength", 1 << 26],
];

export function checkConfig(c: ModelConfig, file: string): void {
  for (const [k, max] of INT_LIMITS) {
    const v = c[k] as number;
    if (!Number.isSafeInteger(v) || v < 1 || v > max)
      throw new ModelFormatError("bad_config", `${k} is ${v}; expected an integer from 1 to ${max}`, file);
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    throw new ModelFormatError(
      "bad_config",
      `${c.numHeads} attention heads cannot be shared by ${c.numKvHeads} key/value heads`,
      file,
    );
  }
  if (c.headDim % 2 !== 0)
    throw new ModelFormatError(
      "bad_config",
      `head dimension ${c.headDim} is odd; rotary embeddings need it even`,
      file,
    );
  if (!(c.rmsNormEps > 0 && c.rmsNormEps < 1))
    throw new ModelFormatError(
      "bad_config",
      `rms norm epsilon is ${c.rmsNormEps}; expected a small positive number`,
      file,
    );
  if (!(c.ropeTheta > 0 && Number.isFinite(c.ropeTheta)))
    throw new ModelFormatError(
      "bad_config",
      `rope theta is ${c.ropeTheta}; expected a positive number`,
      file,
    );
  const rotaryDim = c.rotaryDim ?? c.headDim;
  if (!Number.isSafeInteger(rotaryDim) || rotaryDim < 2 || rotaryDim > c.headDim || rotaryDim % 2 !== 0)
    throw new ModelFormatError(
      "bad_config",
      `rotary dimension ${rotaryDim} is not an even number from 2 to the head dimension ${c.headDim}`,
      file,
    );
  if (c.slidingWindow !== undefined && !(Number.isSafeInteger(c.slidingWindow) && c.slidingWindow >= 1))
    throw new ModelFormatError(
      "bad_config",
      `sliding window ${c.slidingWindow} is not a positive integer`,
      file,
    );
  if (c.slidingWindowLayers && c.slidingWindowLayers.length !== c.numLayers)
    throw new ModelFormatError(
      "bad_config",
      `the sliding-window pattern covers ${c.slidingWindowLayers.length} layers, the model has ${c.numLayers}`,
      file,
    );
  const s = c.ropeScaling;
  if (s) {
    const vals =
      s.type === "linear"
        ? [s.factor]
        : s.type === "longrope"
          ? [...s.shortFactor, ...s.longFactor, s.originalContextLength, s.attentionFactor]
          : [s.factor, s.lowFreqFactor, s.highFreqFactor, s.originalContextLength];
    if (
      s.type === "longrope" &&
      (s.shortFactor.length !== rotaryDim / 2 || s.longFactor.length !== rotaryDim / 2)
    )
      throw new ModelFormatError(
        "bad_config",
        `LongRoPE needs ${rotaryDim / 2} short and long factors (one per rotating pair), got ${s.shortFactor.length} and ${s.longFactor.length}`,
        file,
      );
    if (!vals.every((v) => v > 0 && Number.isFinite(v)))
      throw new ModelFormatError(
        "bad_config",
        `rope scaling ${JSON.stringify(s)} has a non-positive value`,
        file,
      );
    if (s.type === "llama3" && !(s.highFreqFactor > s.lowFreqFactor)) {
      throw new ModelFormatError(
        "bad_config",
        `llama3 rope scaling needs high_freq_factor > low_freq_factor (got ${s.highFreqFactor}, ${s.lowFreqFactor})`,
        file,
      );
    }
  }
}

/** The shape every required tensor must have, row-major [out, in]. */
export function expectedShapes(c: ModelConfig): Map<TensorName, number[]> {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const m = new Map<TensorName, number[]>([
    ["embed", [c.vocabSize, c.hiddenSize]],
    ["final_norm", [c.hiddenSize]],
  ]);
  if (!c.tiedEmbeddings) m.set("lm_head", [c.vocabSize, c.hiddenSize]);
  for (let i = 0; i < c.numLayers; i++) {
    const layer: [LayerTensor, number[]][] = [
      ["attn_norm", [c.hiddenSize]],
      ["wq", [q, c.hiddenSize]],
      ["wk", [kv, c.hiddenSize]],
      ["wv", [kv, c.hiddenSize]],
      ["wo", [c.hiddenSize, q]],
      ["ffn_norm", [c.hiddenSize]],
      ["w_gate", [c.intermediateSize, c.hiddenSize]],
      ["w_up", [c.intermediateSize, c.hiddenSize]],
      ["w_down", [c.hiddenSize, c.intermediateSize]],
    ];
    if (c.attentionBias) layer.push(["bq", [q]], ["bk", [kv]], ["bv", [kv]]);
    if (c.qkNorm) layer.push(["q_norm", [c.headDim]], ["k_norm", [c.headDim]]);
    if (c.postNorms) layer.push(["post_attn_norm", [c.hiddenSize]], ["post_ffn_norm", [c.hiddenSize]]);
    for (const [n, s] of layer) m.set(`layers.${i}.${n}`, s);
  }
  return m;
}

/**
 * Every required tensor is present with its expected shape. `sourceName` maps a canonical name back to
 * the file's own name for messages. Returns the tensor table restricted to the required tensors.
 */
export function checkTensors(
  c: ModelConfig,
  found: ReadonlyMap<TensorName, TensorInfo>,
  sourceName: (n: TensorName) => string,
  file: string,
): Map<TensorName, TensorInfo> {
  const out = new Map<TensorName, TensorInfo>();
  for (const [name, shape] of expectedShapes(c)) {
    const t = found.get(name);
    if (!t)
      throw new ModelFormatError(
        "missing_tensor",
        `tensor ${sourceName(name)} is missing (needed for ${name})`,
        file,
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(
        "bad_tensor",
        `tensor ${sourceName(name)} has shape [${t.shape.join(", ")}] but the model config implies [${shape.join(", ")}]`,
        file,
      );
    }
    out.set(name, t);
  }
  return out;
}

/** f32 metadata such as 1e-5 reads back as 9.99999974e-6; give the shortest decimal that is the same float32. */
export function shortestF32(v: number): number {
  if (Math.fround(v) !== v || !Number.isFinite(v)) return v;
  for (let p = 1; p <= 9; p++) {
    const c = Number(v.toPrecision(p));
    if (Math.fround(c) === v) return c;
  }
  return v;
}
