// Rotary embedding tables (cos/sin per position and frequency), with Llama 3 and linear scaling.
import type { RopeScaling } from "../formats/model-source.js";

export function inverseFrequencies(rotaryDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const half = rotaryDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / rotaryDim);
  if (scaling?.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
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

/** cos and sin caches of shape [maxPositions, rotaryDim / 2], as RotaryEmbedding/GroupQueryAttention expect. */
export function rotaryCaches(maxPositions: number, rotaryDim: number, theta: number, scaling?: RopeScaling) {
  const inv = inverseFrequencies(rotaryDim, theta, scaling);
  const half = rotaryDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * inv[i];
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
