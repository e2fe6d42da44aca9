// Rotary embedding tables (cos/sin per position and frequency), with Llama 3, linear and LongRoPE
// scaling and partial rotary.
import type { ModelConfig, RopeScaling } from "../formats/model-source.js";

type RotaryConfig = Pick<ModelConfig, "headDim" | "rotaryDim" | "ropeTheta" | "ropeScaling">;

/** LongRoPE's factor set for a context: the long one only when the context outgrows the original (llama.cpp's rule). */
function longRopeFactors(s: Extract<RopeScaling, { type: "longrope" }>, contextLength: number): number[] {
  return contextLength > s.originalContextLength ? s.longFactor : s.shortFactor;
}

/** Inverse frequencies of the rotating pairs (rotaryDim / 2 of them) for a model loaded with `contextLength`. */
export function inverseFrequencies(
  rotaryDim: number,
  theta: number,
  scaling?: RopeScaling,
  contextLength = 0,
): Float64Array {
  const half = rotaryDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / rotaryDim);
  if (scaling?.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
  } else if (scaling?.type === "longrope") {
    const factors = longRopeFactors(scaling, contextLength);
    for (let i = 0; i < half; i++) inv[i] /= factors[i];
  } else if (scaling?.type === "llama3") {
    // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, a smooth blend between.
    const { factor, lowFreqFactor, highFreqFactor, originalContextLength } = scaling;
    const lowFreqWavelen = originalContextLength / lowFreqFactor;
    const highFreqWavelen = originalContextLength / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highFreqWavelen) continue;
      if (wavelen > lowFreqWavelen) inv[i] /= factor;
      else {
        const smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/**
 * cos and sin caches of shape [maxPositions, headDim / 2], as RotaryEmbedding/GroupQueryAttention
 * expect; the context the model runs with is maxPositions. With partial rotary the pairs past
 * rotaryDim / 2 do not turn (cos 1, sin 0): the readers moved the non-rotating dimensions there.
 * LongRoPE's attention factor scales the rotating pairs only, as in transformers and llama.cpp.
 */
export function rotaryCaches(maxPositions: number, cfg: RotaryConfig) {
  const rotaryDim = cfg.rotaryDim ?? cfg.headDim;
  const inv = inverseFrequencies(rotaryDim, cfg.ropeTheta, cfg.ropeScaling, maxPositions);
  const scale = cfg.ropeScaling?.type === "longrope" ? cfg.ropeScaling.attentionFactor : 1;
  const half = cfg.headDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      if (i >= inv.length) {
        cos[p * half + i] = 1;
        continue;
      }
      const angle = p * inv[i];
      cos[p * half + i] = Math.cos(angle) * scale;
      sin[p * half + i] = Math.sin(angle) * scale;
    }
  }
  return { cos, sin };
}
