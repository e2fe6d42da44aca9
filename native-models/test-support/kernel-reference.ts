// Pure-TS reference of the sparse FFN kernel: the same quantization (fp16 block scales, int8/int4
// codes, int8 activations per block, round-to-nearest-even) and the same CATS rule, in plain
// float64 arithmetic. Tests compare the native kernels against it; it is far too slow for decoding.
import { toHalf } from "../convert/float16.js";
import type { SparseBits, SparseFfnWeights } from "../kernels/types.js";

const f32 = Math.fround;

/** Round half to even, as C's nearbyint in the default rounding mode. */
export function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const roundHalf = (v: number) => halfToFloat(toHalf(v));

/** Padded row length: d rounded up to a multiple of max(block, 64), as in the native layout. */
export function paddedLength(d: number, blockSize: number): number {
  const unit = Math.max(blockSize, 64);
  return Math.ceil(d / unit) * unit;
}

export interface RefMatrix {
  rows: number;
  dp: number;
  kb: number;
  /** Unsigned codes [rows, dp]: int8 = value + 128, int4 = 0..15 around `zp`. */
  codes: Uint8Array;
  /** fp16-rounded scales [rows, kb]. */
  scales: Float32Array;
  /** Zero points [rows, kb] (128 for int8). */
  zp: Uint8Array;
}

/** Quantizes `rows` rows of `n` values; `read(r, j)` returns value j of row r. */
export function quantizeRows(
  bits: SparseBits,
  blockSize: number,
  rows: number,
  n: number,
  read: (row: number, j: number) => number,
): RefMatrix {
  const dp = paddedLength(n, blockSize);
  const kb = dp / blockSize;
  const m: RefMatrix = {
    rows,
    dp,
    kb,
    codes: new Uint8Array(rows * dp),
    scales: new Float32Array(rows * kb),
    zp: new Uint8Array(rows * kb),
  };
  const v = new Float32Array(blockSize);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < kb; b++) {
      const start = b * blockSize;
      const count = Math.max(0, Math.min(blockSize, n - start));
      let lo = 0;
      let hi = 0;
      for (let j = 0; j < blockSize; j++) {
        v[j] = j < count ? read(r, start + j) : 0;
        if (!Number.isFinite(v[j])) throw new RangeError("weights contain a non-finite value");
        lo = Math.min(lo, v[j]);
        hi = Math.max(hi, v[j]);
      }
      let scale: number;
      let zp: number;
      if (bits === 8) {
        scale = roundHalf(f32(Math.max(-lo, hi) / 127));
        zp = 128;
      } else {
        scale = roundHalf(f32(f32(hi - lo) / 15));
        zp = scale > 0 ? Math.min(15, Math.max(0, roundEven(f32(-lo / scale)))) : 0;
      }
      const [qmin, qmax] = bits === 8 ? [1, 255] : [0, 15];
      for (let j = 0; j < blockSize; j++) {
        const q =
          scale > 0 && j < count ? Math.min(qmax, Math.max(qmin, roundEven(f32(v[j] / scale)) + zp)) : zp;
        m.codes[r * dp + start + j] = q;
      }
      m.scales[r * kb + b] = scale;
      m.zp[r * kb + b] = zp;
    }
  }
  return m;
}

export interface RefActivation {
  q: Int8Array;
  sx: Float32Array;
  xsum: Int32Array;
}

/** int8 per block, scale = absmax / 127 stored at fp16 precision (llama.cpp's Q8_0 activation blocks). */
export function quantizeActivation(x: Float32Array, dp: number, blockSize: number): RefActivation {
  const kb = dp / blockSize;
  const a: RefActivation = { q: new Int8Array(dp), sx: new Float32Array(kb), xsum: new Int32Array(kb) };
  for (let b = 0; b < kb; b++) {
    const start = b * blockSize;
    const end = Math.min(start + blockSize, x.length);
    let amax = 0;
    for (let j = start; j < end; j++) amax = Math.max(amax, Math.abs(x[j]));
    const id = amax > 0 ? f32(127 / amax) : 0;
    let sum = 0;
    for (let j = start; j < end; j++) {
      const q = Math.min(127, Math.max(-127, roundEven(f32(x[j] * id))));
      a.q[j] = q;
      sum += q;
    }
    const sx = f32(amax / 127);
    const sx16 = roundHalf(sx);
    a.sx[b] = sx16 <= 65504 ? sx16 : sx;
    a.xsum[b] = sum;
  }
  return a;
}

function dot(m: RefMatrix, row: number, a: RefActivation, blockSize: number): number {
  let acc = 0;
  for (let b = 0; b < m.kb; b++) {
    let isum = 0;
    for (let j = b * blockSize, base = row * m.dp; j < (b + 1) * blockSize; j++)
      isum += m.codes[base + j] * a.q[j];
    isum -= m.zp[row * m.kb + b] * a.xsum[b];
    acc += m.scales[row * m.kb + b] * a.sx[b] * isum;
  }
  return acc;
}

export interface ReferenceFfn {
  run(x: Float32Array, out: Float32Array, threshold: number, activations?: Float32Array): { active: number };
}

export function createReferenceFfn(w: SparseFfnWeights): ReferenceFfn {
  const { d, ffn } = w;
  const bits = w.bits ?? 8;
  const B = w.blockSize ?? 32;
  const gate = quantizeRows(bits, B, ffn, d, (r, j) => w.gate[r * d + j]);
  const up = quantizeRows(bits, B, ffn, d, (r, j) => w.up[r * d + j]);
  // Neuron r's row of the transposed down matrix is column r of W_down [d, ffn].
  const down = quantizeRows(bits, B, ffn, d, (r, j) => w.down[j * ffn + r]);
  const acc = new Float64Array(down.dp);
  return {
    run(x, out, threshold, activations) {
      const a = quantizeActivation(x, gate.dp, B);
      acc.fill(0);
      let active = 0;
      for (let i = 0; i < ffn; i++) {
        const g = dot(gate, i, a, B);
        const act = g / (1 + Math.exp(-g));
        if (activations) activations[i] = act;
        if (threshold > 0 && !(Math.abs(act) > threshold)) continue;
        active++;
        const h = act * dot(up, i, a, B);
        for (let b = 0; b < down.kb; b++) {
          const hs = h * down.scales[i * down.kb + b];
          const zp = down.zp[i * down.kb + b];
          for (let j = b * B, base = i * down.dp; j < (b + 1) * B; j++)
            acc[j] += hs * (down.codes[base + j] - zp);
        }
      }
      for (let j = 0; j < d; j++) out[j] = acc[j];
      return { active };
    },
  };
}

/** The unquantized FFN in float64, for measuring quantization error. */
export function floatFfn(
  w: SparseFfnWeights,
  x: Float32Array,
  threshold = 0,
): { out: Float64Array; active: number } {
  const { d, ffn } = w;
  const h = new Float64Array(ffn);
  let active = 0;
  for (let i = 0; i < ffn; i++) {
    let g = 0;
    let u = 0;
    for (let j = 0; j < d; j++) {
      g += w.gate[i * d + j] * x[j];
      u += w.up[i * d + j] * x[j];
    }
    const act = g / (1 + Math.exp(-g));
    if (threshold > 0 && !(Math.abs(act) > threshold)) continue;
    h[i] = act * u;
    active++;
  }
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < ffn; i++) s += w.down[j * ffn + i] * h[i];
    out[j] = s;
  }
  return { out, active };
}
