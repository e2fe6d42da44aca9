// AVX2 + FMA + F16C kernels (x86-64 CPUs since ~2013 without AVX-512 VNNI). Compiled with a
// target pragma; selected only after a run-time CPU check. No C++ library templates here (see
// kernels_avx512.cc).
#include "layout.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#if defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace exl {
namespace {

// The 32 codes of the 32-element chunk starting at e (a multiple of 32), as signed bytes for int8
// (code - 128) and as unsigned 0..15 for int4.
template <int BITS>
inline __m256i chunk32(const uint8_t* row, int e) {
  if (BITS == 8) {
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(row + e));
    return _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
  }
  const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(row + ((e & ~63) >> 1)));
  return _mm256_and_si256((e & 32) ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(0x0f));
}

// Σ w·q over 32 bytes as 8 int32 lanes. maddubs multiplies unsigned by signed bytes, so int8
// weights use the sign trick (|w| · sign(q, w)) to stay inside int16 without saturating.
template <int BITS>
inline __m256i mul32(__m256i w, __m256i q) {
  const __m256i ones = _mm256_set1_epi16(1);
  if (BITS == 8) return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(q, w)), ones);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, q), ones);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int BITS, int B, int N>
void dotN(const Layout& L, const uint8_t* const* rows, const XQuant& x, float* out, const Prefetch& pf) {
  __m256 acc[N];
  for (int r = 0; r < N; r++) acc[r] = _mm256_setzero_ps();
  for (int b = 0; b < L.kb; b++) {
    __m256i isum[N];
    // int4: start the block's sum at -zp·Σq (exact, in integers; see kernels_scalar.cc).
    for (int r = 0; r < N; r++) isum[r] = BITS == 4 ? _mm256_castsi128_si256(_mm_cvtsi32_si128(-rows[r][L.zpOffset + b] * x.xsum[b])) : _mm256_setzero_si256();
    for (int e = b * B; e < b * B + B; e += 32) {
      if (!(e & 63)) EXL_PREFETCH_STEP(L, pf, e >> 6);
      const __m256i q = _mm256_load_si256(reinterpret_cast<const __m256i*>(x.q + e));
      for (int r = 0; r < N; r++) isum[r] = _mm256_add_epi32(isum[r], mul32<BITS>(chunk32<BITS>(rows[r], e), q));
    }
    for (int r = 0; r < N; r++) {
      const float d = _cvtsh_ss(reinterpret_cast<const uint16_t*>(rows[r] + L.scalesOffset)[b]) * x.sx[b];
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_set1_ps(d), acc[r]);
    }
  }
  for (int r = 0; r < N; r++) out[r] = hsum(acc[r]);
}

// 8 codes starting at element e (a multiple of 8) as floats.
template <int BITS>
inline __m256 codes8(const uint8_t* row, int e) {
  if (BITS == 8) return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + e))));
  const __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + ((e & ~63) >> 1) + (e & 31))));
  return _mm256_cvtepi32_ps(_mm256_and_si256((e & 32) ? _mm256_srli_epi32(w, 4) : w, _mm256_set1_epi32(15)));
}

template <int BITS, int B, int N>
void axpyN(const Layout& L, const uint8_t* const* rows, const float* h, float* acc, const Prefetch& pf) {
  for (int b = 0; b < L.kb; b++) {
    __m256 hs[N];
    float corr = 0;
    for (int r = 0; r < N; r++) {
      const float s = h[r] * _cvtsh_ss(reinterpret_cast<const uint16_t*>(rows[r] + L.scalesOffset)[b]);
      hs[r] = _mm256_set1_ps(s);
      corr += s * (BITS == 8 ? 128.0f : (float)rows[r][L.zpOffset + b]);
    }
    const __m256 c = _mm256_set1_ps(corr);
    for (int e = b * B; e < b * B + B; e += 8) {
      if (!(e & 63)) EXL_PREFETCH_STEP(L, pf, e >> 6);
      __m256 a = _mm256_load_ps(acc + e);
      for (int r = 0; r < N; r++) a = _mm256_fmadd_ps(codes8<BITS>(rows[r], e), hs[r], a);
      _mm256_store_ps(acc + e, _mm256_sub_ps(a, c));
    }
  }
}

template <int BITS, int B>
void dotB(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  switch (n) {
    case 1: return dotN<BITS, B, 1>(L, rows, x, out, pf);
    case 2: return dotN<BITS, B, 2>(L, rows, x, out, pf);
    case 3: return dotN<BITS, B, 3>(L, rows, x, out, pf);
    default: return dotN<BITS, B, 4>(L, rows, x, out, pf);
  }
}

template <int BITS, int B>
void axpyB(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, const Prefetch& pf) {
  switch (n) {
    case 1: return axpyN<BITS, B, 1>(L, rows, h, acc, pf);
    case 2: return axpyN<BITS, B, 2>(L, rows, h, acc, pf);
    case 3: return axpyN<BITS, B, 3>(L, rows, h, acc, pf);
    default: return axpyN<BITS, B, 4>(L, rows, h, acc, pf);
  }
}

template <int BITS>
void dotBits(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  switch (L.block) {
    case 32: return dotB<BITS, 32>(L, rows, n, x, out, pf);
    case 64: return dotB<BITS, 64>(L, rows, n, x, out, pf);
    case 128: return dotB<BITS, 128>(L, rows, n, x, out, pf);
    default: return dotB<BITS, 256>(L, rows, n, x, out, pf);
  }
}

template <int BITS>
void axpyBits(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, const Prefetch& pf) {
  switch (L.block) {
    case 32: return axpyB<BITS, 32>(L, rows, h, n, acc, pf);
    case 64: return axpyB<BITS, 64>(L, rows, h, n, acc, pf);
    case 128: return axpyB<BITS, 128>(L, rows, h, n, acc, pf);
    default: return axpyB<BITS, 256>(L, rows, h, n, acc, pf);
  }
}

void dot(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  L.bits == 8 ? dotBits<8>(L, rows, n, x, out, pf) : dotBits<4>(L, rows, n, x, out, pf);
}

void axpy(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float*, const Prefetch& pf) {
  L.bits == 8 ? axpyBits<8>(L, rows, h, n, acc, pf) : axpyBits<4>(L, rows, h, n, acc, pf);
}

const Kernels kAvx2 = {"avx2", dot, axpy};

}  // namespace

const Kernels* avx2Kernels() { return &kAvx2; }

}  // namespace exl

#if defined(__GNUC__)
#pragma GCC pop_options
#endif
#else
namespace exl {
const Kernels* avx2Kernels() { return nullptr; }
}
#endif
