// Hand-built ggml quantization blocks for tests: each builder lays out the bytes of one block from
// its fields exactly as ggml's structs do (ggml-common.h), and `expected*` computes the values that
// block stands for straight from the format's formula, element by element, written independently of
// the reader's loops.

/** float -> f16 bits, round to nearest even (normal, subnormal, inf, nan). */
export function f16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches inf at the top).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function f16Value(bits: number): number {
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  const s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const putHalf = (b: Uint8Array, o: number, bits: number) => {
  b[o] = bits & 0xff;
  b[o + 1] = bits >> 8;
};

/** Q8_0: f16 d, 32 int8. */
export function q8_0Block(dBits: number, q: number[]): Uint8Array {
  const b = new Uint8Array(34);
  putHalf(b, 0, dBits);
  q.forEach((v, i) => (b[2 + i] = v & 0xff));
  return b;
}
export const expectedQ8_0 = (dBits: number, q: number[]) => q.map((v) => Math.fround(f16Value(dBits) * v));

/** Q4_0: f16 d, 16 bytes; element j in low nibble of byte j, element j+16 in the high nibble. q in 0..15. */
export function q4_0Block(dBits: number, q: number[]): Uint8Array {
  const b = new Uint8Array(18);
  putHalf(b, 0, dBits);
  for (let j = 0; j < 16; j++) b[2 + j] = q[j] | (q[j + 16] << 4);
  return b;
}
export const expectedQ4_0 = (dBits: number, q: number[]) =>
  q.map((v) => Math.fround(f16Value(dBits) * (v - 8)));

/** Q4_1: f16 d, f16 m, 16 bytes of nibbles as Q4_0. */
export function q4_1Block(dBits: number, mBits: number, q: number[]): Uint8Array {
  const b = new Uint8Array(20);
  putHalf(b, 0, dBits);
  putHalf(b, 2, mBits);
  for (let j = 0; j < 16; j++) b[4 + j] = q[j] | (q[j + 16] << 4);
  return b;
}
export const expectedQ4_1 = (dBits: number, mBits: number, q: number[]) =>
  q.map((v) => Math.fround(f16Value(dBits) * v + f16Value(mBits)));

/** Q5_0 (mBits undefined) or Q5_1: f16 d, [f16 m], u32 qh with bit j = fifth bit of value j, 16 bytes of nibbles. q in 0..31. */
export function q5Block(dBits: number, mBits: number | undefined, q: number[]): Uint8Array {
  const hasMin = mBits !== undefined;
  const b = new Uint8Array(hasMin ? 24 : 22);
  putHalf(b, 0, dBits);
  if (hasMin) putHalf(b, 2, mBits);
  const qhAt = hasMin ? 4 : 2;
  for (let j = 0; j < 32; j++) if (q[j] & 16) b[qhAt + (j >> 3)] |= 1 << (j & 7);
  for (let j = 0; j < 16; j++) b[qhAt + 4 + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
  return b;
}
export const expectedQ5 = (dBits: number, mBits: number | undefined, q: number[]) =>
  q.map((v) =>
    Math.fround(mBits === undefined ? f16Value(dBits) * (v - 16) : f16Value(dBits) * v + f16Value(mBits)),
  );

/** The 12-byte scale/min packing of Q4_K and Q5_K, as ggml's quantize_row_q4_K_ref writes it. */
export function packScalesK4(scales: number[], mins: number[]): Uint8Array {
  const y = new Uint8Array(12);
  for (let j = 0; j < 8; j++) {
    const ls = scales[j];
    const lm = mins[j];
    if (j < 4) {
      y[j] = ls;
      y[j + 4] = lm;
    } else {
      y[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      y[j - 4] |= (ls >> 4) << 6;
      y[j] |= (lm >> 4) << 6;
    }
  }
  return y;
}

/** Q4_K: f16 d, f16 dmin, 12 bytes scales, 128 bytes qs. q: 256 values 0..15; scales/mins: 8 values 0..63. */
export function q4_KBlock(
  dBits: number,
  dminBits: number,
  scales: number[],
  mins: number[],
  q: number[],
): Uint8Array {
  const b = new Uint8Array(144);
  putHalf(b, 0, dBits);
  putHalf(b, 2, dminBits);
  b.set(packScalesK4(scales, mins), 4);
  // Element e: 64-wide group g = e>>6; the first 32 use low nibbles of qs[g*32 + l], the next 32 the high ones.
  for (let e = 0; e < 256; e++) {
    const g = e >> 6;
    const l = e & 31;
    b[16 + g * 32 + l] |= (e & 32 ? q[e] << 4 : q[e]) & 0xff;
  }
  return b;
}
export function expectedQ4_K(
  dBits: number,
  dminBits: number,
  scales: number[],
  mins: number[],
  q: number[],
): number[] {
  const d = f16Value(dBits);
  const dmin = f16Value(dminBits);
  return q.map((v, e) => Math.fround(Math.fround(d * scales[e >> 5]) * v - Math.fround(dmin * mins[e >> 5])));
}

/** Q5_K: as Q4_K plus qh[32]: bit (2g + (e&32 ? 1 : 0)) of qh[l] is the fifth bit. q: 256 values 0..31. */
export function q5_KBlock(
  dBits: number,
  dminBits: number,
  scales: number[],
  mins: number[],
  q: number[],
): Uint8Array {
  const b = new Uint8Array(176);
  putHalf(b, 0, dBits);
  putHalf(b, 2, dminBits);
  b.set(packScalesK4(scales, mins), 4);
  for (let e = 0; e < 256; e++) {
    const g = e >> 6;
    const l = e & 31;
    const hiHalf = (e & 32) !== 0;
    b[48 + g * 32 + l] |= hiHalf ? (q[e] & 15) << 4 : q[e] & 15;
    if (q[e] & 16) b[16 + l] |= 1 << (2 * g + (hiHalf ? 1 : 0));
  }
  return b;
}
export const expectedQ5_K = expectedQ4_K;

/** Q6_K: ql[128], qh[64], int8 scales[16], f16 d. q: 256 values 0..63 (stored value; the weight is q-32). */
export function q6_KBlock(dBits: number, scales: number[], q: number[]): Uint8Array {
  const b = new Uint8Array(210);
  for (let e = 0; e < 256; e++) {
    const n = e >> 7;
    const r = e & 127;
    const l = r & 31;
    const quarter = r >> 5;
    const qlIdx = n * 64 + l + (quarter & 1 ? 32 : 0);
    b[qlIdx] |= quarter >= 2 ? (q[e] & 15) << 4 : q[e] & 15;
    b[128 + n * 32 + l] |= (q[e] >> 4) << (2 * quarter);
  }
  scales.forEach((s, i) => (b[192 + i] = s & 0xff));
  putHalf(b, 208, dBits);
  return b;
}
export function expectedQ6_K(dBits: number, scales: number[], q: number[]): number[] {
  const d = f16Value(dBits);
  return q.map((v, e) => {
    const n = e >> 7;
    const r = e & 127;
    const sc = scales[n * 8 + ((r & 31) >> 4) + 2 * (r >> 5)];
    return Math.fround(Math.fround(d * sc) * (v - 32));
  });
}

export function concat(blocks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(blocks.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for tests and the fuzzer: the engine's own. */
export { seededRandom as rng } from "../runtime/sampler.js";
