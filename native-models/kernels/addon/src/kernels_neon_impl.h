// NEON kernel bodies, included by kernels_neon.cc (baseline Advanced SIMD, mandatory on AArch64)
// and kernels_neon_dot.cc (Armv8.2 SDOT, selected after a run-time check). EXL_NEON_DOT picks the
// integer multiply: SDOT (4 products into each int32 lane) or SMULL + SADALP (2 products per step).
// No C++ library templates here (see kernels_avx512.cc).
#include <arm_neon.h>

#include "layout.h"

namespace exl {
namespace EXL_NEON_NS {

inline float scaleAt(const uint8_t* row, const Layout& L, int b) {
#if defined(__GNUC__)
  __fp16 h;
  std::memcpy(&h, row + L.scalesOffset + 2 * b, 2);
  return (float)h;
#else
  uint16_t h;
  std::memcpy(&h, row + L.scalesOffset + 2 * b, 2);
  return halfToFloat(h);
#endif
}

// acc += Σ w·q over 16 signed bytes, as 4 int32 lanes.
inline int32x4_t mac16(int32x4_t acc, int8x16_t w, int8x16_t q) {
#if EXL_NEON_DOT
  return vdotq_s32(acc, w, q);
#else
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(w), vget_low_s8(q)));
  return vpadalq_s16(acc, vmull_high_s8(w, q));
#endif
}

// The 16 codes of elements e..e+15 (e a multiple of 16): int8 as signed values, int4 as 0..15.
template <int BITS>
inline int8x16_t codes16(const uint8_t* row, int e) {
  if (BITS == 8) return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(row + e), vdupq_n_u8(0x80)));
  const uint8x16_t v = vld1q_u8(row + ((e & ~63) >> 1) + (e & 16));
  return vreinterpretq_s8_u8((e & 32) ? vshrq_n_u8(v, 4) : vandq_u8(v, vdupq_n_u8(0x0f)));
}

template <int BITS, int N>
void dotN(const Layout& L, const uint8_t* const* rows, const XQuant& x, float* out, const Prefetch& pf) {
  float32x4_t acc[N];
  for (int r = 0; r < N; r++) acc[r] = vdupq_n_f32(0);
  const int B = L.block;
  for (int b = 0; b < L.kb; b++) {
    int32x4_t isum[N];
    // int4: start the block's sum at -zp·Σq (exact, in integers; see kernels_scalar.cc).
    for (int r = 0; r < N; r++) isum[r] = vsetq_lane_s32(BITS == 4 ? -rows[r][L.zpOffset + b] * x.xsum[b] : 0, vdupq_n_s32(0), 0);
    for (int e = b * B; e < b * B + B; e += 16) {
      if (!(e & 63)) EXL_PREFETCH_STEP(L, pf, e >> 6);
      const int8x16_t q = vld1q_s8(x.q + e);
      for (int r = 0; r < N; r++) isum[r] = mac16(isum[r], codes16<BITS>(rows[r], e), q);
    }
    for (int r = 0; r < N; r++) {
      const float d = scaleAt(rows[r], L, b) * x.sx[b];
      acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(isum[r]), d);
    }
  }
  for (int r = 0; r < N; r++) out[r] = vaddvq_f32(acc[r]);
}

template <int BITS, int N>
void axpyN(const Layout& L, const uint8_t* const* rows, const float* h, float* acc, const Prefetch& pf) {
  const int B = L.block;
  for (int b = 0; b < L.kb; b++) {
    float hs[N];
    for (int r = 0; r < N; r++) hs[r] = h[r] * scaleAt(rows[r], L, b);
    for (int e = b * B; e < b * B + B; e += 16) {
      if (!(e & 63)) EXL_PREFETCH_STEP(L, pf, e >> 6);
      float32x4_t a0 = vld1q_f32(acc + e), a1 = vld1q_f32(acc + e + 4), a2 = vld1q_f32(acc + e + 8), a3 = vld1q_f32(acc + e + 12);
      for (int r = 0; r < N; r++) {
        // int4 codes are 0..15 around a zero point: subtract it in int16 before widening.
        int8x16_t c = codes16<BITS>(rows[r], e);
        int16x8_t lo = vmovl_s8(vget_low_s8(c)), hi = vmovl_high_s8(c);
        if (BITS == 4) {
          const int16x8_t zp = vdupq_n_s16(rows[r][L.zpOffset + b]);
          lo = vsubq_s16(lo, zp), hi = vsubq_s16(hi, zp);
        }
        a0 = vfmaq_n_f32(a0, vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), hs[r]);
        a1 = vfmaq_n_f32(a1, vcvtq_f32_s32(vmovl_high_s16(lo)), hs[r]);
        a2 = vfmaq_n_f32(a2, vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), hs[r]);
        a3 = vfmaq_n_f32(a3, vcvtq_f32_s32(vmovl_high_s16(hi)), hs[r]);
      }
      vst1q_f32(acc + e, a0), vst1q_f32(acc + e + 4, a1), vst1q_f32(acc + e + 8, a2), vst1q_f32(acc + e + 12, a3);
    }
  }
}

template <int BITS>
void dotBits(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  switch (n) {
    case 1: return dotN<BITS, 1>(L, rows, x, out, pf);
    case 2: return dotN<BITS, 2>(L, rows, x, out, pf);
    case 3: return dotN<BITS, 3>(L, rows, x, out, pf);
    default: return dotN<BITS, 4>(L, rows, x, out, pf);
  }
}

template <int BITS>
void axpyBits(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, const Prefetch& pf) {
  switch (n) {
    case 1: return axpyN<BITS, 1>(L, rows, h, acc, pf);
    case 2: return axpyN<BITS, 2>(L, rows, h, acc, pf);
    case 3: return axpyN<BITS, 3>(L, rows, h, acc, pf);
    default: return axpyN<BITS, 4>(L, rows, h, acc, pf);
  }
}

void dot(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  L.bits == 8 ? dotBits<8>(L, rows, n, x, out, pf) : dotBits<4>(L, rows, n, x, out, pf);
}

void axpy(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float*, const Prefetch& pf) {
  L.bits == 8 ? axpyBits<8>(L, rows, h, n, acc, pf) : axpyBits<4>(L, rows, h, n, acc, pf);
}

void scores(const float* q, const float* keys, int hd, int count, float scale, float* out) {
  for (int t = 0; t < count; t++) {
    const float* k = keys + (size_t)t * hd;
    float32x4_t s0 = vdupq_n_f32(0);
    int i = 0;
    for (; i + 4 <= hd; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(q + i), vld1q_f32(k + i));
    float s = vaddvq_f32(s0);
    for (; i < hd; i++) s += q[i] * k[i];
    out[t] = s * scale;
  }
}

void mix(const float* p, const float* values, int hd, int count, float* out) {
  int i = 0;
  for (; i + 4 <= hd; i += 4) {
    float32x4_t acc = vdupq_n_f32(0);
    for (int t = 0; t < count; t++) acc = vfmaq_n_f32(acc, vld1q_f32(values + (size_t)t * hd + i), p[t]);
    vst1q_f32(out + i, acc);
  }
  for (; i < hd; i++) {
    float acc = 0;
    for (int t = 0; t < count; t++) acc += p[t] * values[(size_t)t * hd + i];
    out[i] = acc;
  }
}

}  // namespace EXL_NEON_NS
}  // namespace exl
