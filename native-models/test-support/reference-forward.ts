// An independent float64 forward pass of a Llama / Mistral / Qwen2 / Qwen3 / Gemma 3 / Phi-3
// decoder, written straight from the architecture's definition (no onnxruntime, no code shared with
// the engine's graphs), used to check the engine on architectures no real test model covers (Qwen2
// biases, half-split rotary, Llama 3 rope scaling, untied heads, q/k norms, sliding windows,
// Gemma's post-norms, GeGLU, scaled embeddings, local rotary bases and soft-capping, Phi-3's
// partial rotary and LongRoPE). Weights are in the file's own row order: partial rotary turns the
// first rotaryDim dimensions of each head.
import {
  attentionWindow,
  layerRope,
  type ModelConfig,
  type RopeScaling,
  type TensorName,
} from "../formats/model-source.js";

type Weights = (name: TensorName) => Float32Array | undefined;

function inverseFrequencies(
  c: ModelConfig,
  theta: number,
  s: RopeScaling | undefined,
  contextLength: number,
): number[] {
  const r = c.rotaryDim ?? c.headDim;
  const inv = Array.from({ length: r / 2 }, (_, i) => Math.pow(theta, (-2 * i) / r));
  if (s?.type === "linear") return inv.map((f) => f / s.factor);
  if (s?.type === "longrope") {
    // Phi-3: long factors once the context exceeds the original one (llama.cpp: n_ctx_seq > n_ctx_orig).
    const factors = contextLength > s.originalContextLength ? s.longFactor : s.shortFactor;
    return inv.map((f, i) => f / factors[i]);
  }
  if (s?.type === "llama3") {
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      const lowWavelen = s.originalContextLength / s.lowFreqFactor;
      const highWavelen = s.originalContextLength / s.highFreqFactor;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / s.factor;
      const smooth =
        (s.originalContextLength / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      return (1 - smooth) * (f / s.factor) + smooth * f;
    });
  }
  return inv;
}

function matvec(
  w: Float32Array,
  x: Float64Array,
  rows: number,
  cols: number,
  bias?: Float32Array,
): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = bias ? bias[r] : 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    y[r] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]);
}

/** RMSNorm of each head's hd values in place (Qwen3's q/k norm). */
function headNorm(v: Float64Array, heads: number, hd: number, w: Float32Array, eps: number): void {
  for (let h = 0; h < heads; h++) v.set(rmsnorm(v.subarray(h * hd, (h + 1) * hd), w, eps), h * hd);
}

function rotate(
  v: Float64Array,
  heads: number,
  hd: number,
  pos: number,
  inv: number[],
  interleaved: boolean,
  scale: number,
): void {
  const half = inv.length;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const a = interleaved ? h * hd + 2 * i : h * hd + i;
      const b = interleaved ? a + 1 : a + half;
      const cos = Math.cos(pos * inv[i]) * scale;
      const sin = Math.sin(pos * inv[i]) * scale;
      const x = v[a];
      const y = v[b];
      v[a] = x * cos - y * sin;
      v[b] = x * sin + y * cos;
    }
  }
}

/** Logits after every position of `ids`, for a model loaded with `contextLength` (LongRoPE's choice). */
export function referenceLogits(
  c: ModelConfig,
  w: Weights,
  ids: readonly number[],
  contextLength = c.contextLength,
): Float64Array[] {
  const d = c.hiddenSize;
  const hd = c.headDim;
  const qd = c.numHeads * hd;
  const kvd = c.numKvHeads * hd;
  // Per layer: Gemma 3's local layers rotate with their own base.
  const inv = Array.from({ length: c.numLayers }, (_, l) => {
    const { theta, scaling } = layerRope(c, l);
    return inverseFrequencies(c, theta, scaling, contextLength);
  });
  const scale = c.ropeScaling?.type === "longrope" ? c.ropeScaling.attentionFactor : 1;
  const scoreScale = c.attentionScale ?? 1 / Math.sqrt(hd);
  const gelu = (g: number) => 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3)));
  const act = c.activation === "gelu_tanh" ? gelu : (g: number) => g / (1 + Math.exp(-g));
  const keys: Float64Array[][] = Array.from({ length: c.numLayers }, () => []);
  const values: Float64Array[][] = Array.from({ length: c.numLayers }, () => []);
  const need = (n: TensorName) => {
    const t = w(n);
    if (!t) throw new Error(`reference forward: missing ${n}`);
    return t;
  };
  const embed = need("embed");
  const head = c.tiedEmbeddings ? embed : need("lm_head");
  const out: Float64Array[] = [];
  ids.forEach((id, pos) => {
    let x = Float64Array.from(embed.subarray(id * d, (id + 1) * d), (v) => v * (c.embedScale ?? 1));
    for (let l = 0; l < c.numLayers; l++) {
      const t = (n: string) => w(`layers.${l}.${n}` as TensorName);
      const h = rmsnorm(x, t("attn_norm")!, c.rmsNormEps);
      const q = matvec(t("wq")!, h, qd, d, t("bq"));
      const k = matvec(t("wk")!, h, kvd, d, t("bk"));
      const v = matvec(t("wv")!, h, kvd, d, t("bv"));
      if (c.qkNorm) {
        headNorm(q, c.numHeads, hd, t("q_norm")!, c.rmsNormEps);
        headNorm(k, c.numKvHeads, hd, t("k_norm")!, c.rmsNormEps);
      }
      rotate(q, c.numHeads, hd, pos, inv[l], c.ropeInterleaved, scale);
      rotate(k, c.numKvHeads, hd, pos, inv[l], c.ropeInterleaved, scale);
      keys[l].push(k);
      values[l].push(v);
      const attn = new Float64Array(qd);
      const group = c.numHeads / c.numKvHeads;
      for (let hIdx = 0; hIdx < c.numHeads; hIdx++) {
        const kv = Math.floor(hIdx / group);
        // A sliding window sees the last `window` tokens, this one included.
        const window = attentionWindow(c, l);
        const first = window > 0 ? Math.max(0, keys[l].length - window) : 0;
        const scores = keys[l].slice(first).map((kk) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += q[hIdx * hd + i] * kk[kv * hd + i];
          return s * scoreScale;
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let p = 0; p < e.length; p++)
          for (let i = 0; i < hd; i++)
            attn[hIdx * hd + i] += (e[p] / sum) * values[l][first + p][kv * hd + i];
      }
      let o = matvec(t("wo")!, attn, d, qd);
      if (c.postNorms) o = rmsnorm(o, t("post_attn_norm")!, c.rmsNormEps);
      x = x.map((v0, i) => v0 + o[i]);
      const f = rmsnorm(x, t("ffn_norm")!, c.rmsNormEps);
      const gate = matvec(t("w_gate")!, f, c.intermediateSize, d);
      const up = matvec(t("w_up")!, f, c.intermediateSize, d);
      const hidden = gate.map((g, i) => act(g) * up[i]);
      let down = matvec(t("w_down")!, hidden, d, c.intermediateSize);
      if (c.postNorms) down = rmsnorm(down, t("post_ffn_norm")!, c.rmsNormEps);
      x = x.map((v0, i) => v0 + down[i]);
    }
    const logits = matvec(head, rmsnorm(x, need("final_norm"), c.rmsNormEps), c.vocabSize, d);
    const cap = c.finalLogitSoftcap;
    out.push(cap ? logits.map((v) => cap * Math.tanh(v / cap)) : logits);
  });
  return out;
}
