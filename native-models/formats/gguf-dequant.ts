import { ModelFormatError } from "./errors.js";

// Dequantization to float32, following ggml's reference dequantizers (ggml-quants.c
// `dequantize_row_*`) block by block. Tight loops over typed arrays, no per-element allocation:
// these run over every weight of a multi-GB model during import.
//
// Non-finite values: a quantized block can only produce NaN/Inf through its f16 scales, so those are
// checked once per block; float tensors are checked per element (one subtraction, cheap next to the
// memory traffic). The caller decides what to do with a non-zero count (the readers reject the tensor).

/** f16 bit pattern -> float32 value, for all 65536 patterns (256 KB, built once). */
export const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] =
      e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

interface Layout {
  blockSize: number;
  typeSize: number;
  /** Dequantizes `nb` blocks from src[so..] into dst[dOff..]; returns the count of non-finite blocks/elements. */
  run(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number;
}

const half = (s: Uint8Array, o: number) => F16_TABLE[s[o] | (s[o + 1] << 8)];
const bad = (v: number) => (v - v !== 0 ? 1 : 0);

function f32(src: Uint8Array, so: number, dst: Float32Array, dOff: number, n: number): number {
  // Copy through a byte view: the source offset need not be 4-byte aligned.
  new Uint8Array(dst.buffer, dst.byteOffset + dOff * 4, n * 4).set(src.subarray(so, so + n * 4));
  // Exponent all ones = NaN or Inf; integer compares are cheaper than float tests here.
  const bits = new Uint32Array(dst.buffer, dst.byteOffset + dOff * 4, n);
  let nonFinite = 0;
  for (let i = 0; i < n; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) nonFinite++;
  return nonFinite;
}

function f16(src: Uint8Array, so: number, dst: Float32Array, dOff: number, n: number): number {
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const h = src[so + 2 * i] | (src[so + 2 * i + 1] << 8);
    nonFinite += (h & 0x7c00) === 0x7c00 ? 1 : 0;
    dst[dOff + i] = F16_TABLE[h];
  }
  return nonFinite;
}

function bf16(src: Uint8Array, so: number, dst: Float32Array, dOff: number, n: number): number {
  // bf16 is the top half of a float32: write the bits straight into the output.
  const bits = new Uint32Array(dst.buffer, dst.byteOffset + dOff * 4, n);
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const h = src[so + 2 * i] | (src[so + 2 * i + 1] << 8);
    nonFinite += (h & 0x7f80) === 0x7f80 ? 1 : 0;
    bits[i] = h << 16;
  }
  return nonFinite;
}

function q8_0(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  const s8 = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 34, dOff += 32) {
    const d = half(src, so);
    nonFinite += bad(d);
    for (let j = 0; j < 32; j++) dst[dOff + j] = s8[so + 2 + j] * d;
  }
  return nonFinite;
}

function q4_0(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 18, dOff += 32) {
    const d = half(src, so);
    nonFinite += bad(d);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 2 + j];
      dst[dOff + j] = ((q & 0xf) - 8) * d;
      dst[dOff + j + 16] = ((q >> 4) - 8) * d;
    }
  }
  return nonFinite;
}

function q4_1(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 20, dOff += 32) {
    const d = half(src, so);
    const m = half(src, so + 2);
    nonFinite += bad(d) | bad(m);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 4 + j];
      dst[dOff + j] = (q & 0xf) * d + m;
      dst[dOff + j + 16] = (q >> 4) * d + m;
    }
  }
  return nonFinite;
}

/** Q5_0/Q5_1: the fifth bits of the 32 values sit in a little-endian u32 qh (bit j: value j). */
function q5(
  src: Uint8Array,
  so: number,
  dst: Float32Array,
  dOff: number,
  nb: number,
  withMin: boolean,
): number {
  const bs = withMin ? 24 : 22;
  const q = withMin ? 8 : 6;
  const offset = withMin ? 0 : 16;
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += bs, dOff += 32) {
    const d = half(src, so);
    const m = withMin ? half(src, so + 2) : 0;
    nonFinite += bad(d) | bad(m);
    const h = q - 4;
    const qh =
      (src[so + h] | (src[so + h + 1] << 8) | (src[so + h + 2] << 16) | (src[so + h + 3] << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const x = src[so + q + j];
      const x0 = ((x & 0xf) | (((qh >>> j) << 4) & 0x10)) - offset;
      const x1 = ((x >> 4) | ((qh >>> (j + 12)) & 0x10)) - offset;
      dst[dOff + j] = x0 * d + m;
      dst[dOff + j + 16] = x1 * d + m;
    }
  }
  return nonFinite;
}

/** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from a K block's 12 scale bytes at s[o..]. */
function scaleMinK4(s: Uint8Array, o: number, j: number, out: Float64Array): void {
  if (j < 4) {
    out[0] = s[o + j] & 63;
    out[1] = s[o + j + 4] & 63;
  } else {
    out[0] = (s[o + j + 4] & 0xf) | ((s[o + j - 4] >> 6) << 4);
    out[1] = (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4);
  }
}

const sm = new Float64Array(2);

function q4_k(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 144) {
    const d = half(src, so);
    const dmin = half(src, so + 2);
    nonFinite += bad(d) | bad(dmin);
    let q = so + 16;
    for (let is = 0; is < 8; is += 2, q += 32) {
      scaleMinK4(src, so + 4, is, sm);
      const d1 = d * sm[0];
      const m1 = dmin * sm[1];
      scaleMinK4(src, so + 4, is + 1, sm);
      const d2 = d * sm[0];
      const m2 = dmin * sm[1];
      for (let l = 0; l < 32; l++) dst[dOff + l] = d1 * (src[q + l] & 0xf) - m1;
      for (let l = 0; l < 32; l++) dst[dOff + 32 + l] = d2 * (src[q + l] >> 4) - m2;
      dOff += 64;
    }
  }
  return nonFinite;
}

function q5_k(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 176) {
    const d = half(src, so);
    const dmin = half(src, so + 2);
    nonFinite += bad(d) | bad(dmin);
    const qh = so + 16;
    let ql = so + 48;
    // ggml walks masks u1 = 1, 4, 16, 64 and u2 = 2, 8, 32, 128: bits sh and sh+1 of qh for group is/2.
    for (let is = 0, sh = 0; is < 8; is += 2, ql += 32, sh += 2) {
      scaleMinK4(src, so + 4, is, sm);
      const d1 = d * sm[0];
      const m1 = dmin * sm[1];
      scaleMinK4(src, so + 4, is + 1, sm);
      const d2 = d * sm[0];
      const m2 = dmin * sm[1];
      for (let l = 0; l < 32; l++)
        dst[dOff + l] = d1 * ((src[ql + l] & 0xf) | (((src[qh + l] >> sh) & 1) << 4)) - m1;
      for (let l = 0; l < 32; l++)
        dst[dOff + 32 + l] = d2 * ((src[ql + l] >> 4) | (((src[qh + l] >> (sh + 1)) & 1) << 4)) - m2;
      dOff += 64;
    }
  }
  return nonFinite;
}

function q6_k(src: Uint8Array, so: number, dst: Float32Array, dOff: number, nb: number): number {
  const s8 = new Int8Array(src.buffer, src.byteOffset, src.byteLength);
  let nonFinite = 0;
  for (let b = 0; b < nb; b++, so += 210) {
    const d = half(src, so + 208);
    nonFinite += bad(d);
    let ql = so;
    let qh = so + 128;
    let sc = so + 192;
    for (let n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8, dOff += 128) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = src[qh + l];
        const q1 = ((src[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        // ggml: d * sc[is] * q in float; d*sc is exact in float32, so one rounding either way.
        dst[dOff + l] = d * s8[sc + is] * q1;
        dst[dOff + l + 32] = d * s8[sc + is + 2] * q2;
        dst[dOff + l + 64] = d * s8[sc + is + 4] * q3;
        dst[dOff + l + 96] = d * s8[sc + is + 6] * q4;
      }
    }
  }
  return nonFinite;
}

const LAYOUTS: Record<string, Layout> = {
  F32: { blockSize: 1, typeSize: 4, run: f32 },
  F16: { blockSize: 1, typeSize: 2, run: f16 },
  BF16: { blockSize: 1, typeSize: 2, run: bf16 },
  Q8_0: { blockSize: 32, typeSize: 34, run: q8_0 },
  Q4_0: { blockSize: 32, typeSize: 18, run: q4_0 },
  Q4_1: { blockSize: 32, typeSize: 20, run: q4_1 },
  // llama.cpp falls back to Q5_0/Q5_1 for K-quant files whose rows are not multiples of 256 (Qwen2-0.5B's 896).
  Q5_0: { blockSize: 32, typeSize: 22, run: (s, so, d, o, nb) => q5(s, so, d, o, nb, false) },
  Q5_1: { blockSize: 32, typeSize: 24, run: (s, so, d, o, nb) => q5(s, so, d, o, nb, true) },
  Q4_K: { blockSize: 256, typeSize: 144, run: q4_k },
  Q5_K: { blockSize: 256, typeSize: 176, run: q5_k },
  Q6_K: { blockSize: 256, typeSize: 210, run: q6_k },
};

export const DEQUANT_TYPES: readonly string[] = Object.keys(LAYOUTS);

/**
 * Dequantizes `src` (whole blocks of `type`) into dst starting at dstOffset. Returns the number of
 * non-finite elements (float types) or blocks with a non-finite scale (quantized types); 0 = clean.
 */
export function dequantizeInto(
  type: string,
  src: Uint8Array,
  dst: Float32Array,
  dstOffset = 0,
  file?: string,
): number {
  const l = LAYOUTS[type];
  if (!l)
    throw new ModelFormatError(
      "unsupported_type",
      `cannot dequantize ggml type ${type} (supported: ${DEQUANT_TYPES.join(", ")})`,
      file,
    );
  const nb = Math.floor(src.byteLength / l.typeSize);
  if (nb * l.typeSize !== src.byteLength || dstOffset + nb * l.blockSize > dst.length) {
    throw new ModelFormatError(
      "bad_tensor",
      `${type} data of ${src.byteLength} bytes does not fit ${dst.length - dstOffset} output values`,
      file,
    );
  }
  return l.run(src, 0, dst, dstOffset, nb);
}

/** Bytes needed for n elements of `type`, or undefined for a type we cannot dequantize. */
export function dequantLayout(type: string): { blockSize: number; typeSize: number } | undefined {
  const l = LAYOUTS[type];
  return l && { blockSize: l.blockSize, typeSize: l.typeSize };
}
