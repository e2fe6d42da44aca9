// Writes tiny llama2.c checkpoints (legacy v0) and tokenizer.bin files for tests and the fuzzer.

import { concat } from "./ggml-blocks.js";
import { f32Bytes } from "./gguf-writer.js";
import type { TinyModel } from "./tiny-models.js";

export function tinyLlama2c(m: TinyModel): Uint8Array {
  const c = m.config;
  const header = new Int32Array([
    c.hiddenSize,
    c.intermediateSize,
    c.numLayers,
    c.numHeads,
    c.numKvHeads,
    c.tiedEmbeddings ? c.vocabSize : -c.vocabSize,
    c.contextLength,
  ]);
  const t = (n: string) => m.tensors.get(n as never)!.data;
  const perLayer = (k: string) =>
    concat(Array.from({ length: c.numLayers }, (_, i) => f32Bytes(t(`layers.${i}.${k}`))));
  const half = c.headDim / 2;
  const re = new Float32Array(c.contextLength * half);
  const im = new Float32Array(c.contextLength * half);
  for (let p = 0; p < c.contextLength; p++)
    for (let i = 0; i < half; i++) {
      const a = p * 10000 ** ((-2 * i) / c.headDim);
      re[p * half + i] = Math.cos(a);
      im[p * half + i] = Math.sin(a);
    }
  const parts = [
    new Uint8Array(header.buffer),
    f32Bytes(t("embed")),
    ...["attn_norm", "wq", "wk", "wv", "wo", "ffn_norm", "w_gate", "w_down", "w_up"].map(perLayer),
    f32Bytes(t("final_norm")),
    f32Bytes(re),
    f32Bytes(im),
  ];
  if (!c.tiedEmbeddings) parts.push(f32Bytes(t("lm_head")));
  return concat(parts);
}

export function llama2cTokenizerBin(pieces: string[], scores?: number[]): Uint8Array {
  const enc = pieces.map((p) => new TextEncoder().encode(p.replaceAll("▁", " ")));
  const parts: Uint8Array[] = [
    new Uint8Array(new Int32Array([Math.max(1, ...enc.map((e) => e.length))]).buffer),
  ];
  enc.forEach((e, i) => {
    const h = new DataView(new ArrayBuffer(8));
    h.setFloat32(0, scores ? scores[i] : -i, true);
    h.setInt32(4, e.length, true);
    parts.push(new Uint8Array(h.buffer), e);
  });
  return concat(parts);
}
