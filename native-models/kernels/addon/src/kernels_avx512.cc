// AVX-512 (F/BW/VL) + VNNI kernels. Compiled with a target pragma, not a global -m flag, so the
// addon still loads on CPUs without AVX-512; ffn.cc only calls these after a run-time CPU check.
// No C++ library templates are used in this file: their instantiations would be compiled for
// AVX-512 and could be picked by the linker for other callers.
#include "layout.h"
#include "kernels_x86.h"
#include "packed.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <cmath>
#include <cstring>
#include <initializer_list>
#if defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
// GCC 12 flags its own _mm512_castsi256_si512 (undefined upper half, by design) as uninitialised.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace exl {
namespace {

// 64 int4 codes (32 bytes) -> 64 bytes in element order (see the packing note in layout.h).
inline __m512i unpack4(const uint8_t* p) {
  const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i nib = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// N rows at once share the activation loads and the block-scale shuffles.
template <int BITS, int B, int N>
void dotN(const Layout& L, const uint8_t* const* rows, const XQuant& x, float* out, const Prefetch& pf) {
  __m512 acc[N];
  for (int r = 0; r < N; r++) acc[r] = _mm512_setzero_ps();
  // Lanes 0-7 of a 64-element chunk belong to its first 32 elements, lanes 8-15 to the next 32.
  const __m512i halfIdx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const int kb = L.kb;
  for (int g = 0; g < kb; g += 16) {
    const int nb = kb - g < 16 ? kb - g : 16;
    const __mmask16 m = (__mmask16)((1u << nb) - 1);
    const __m512 sx = _mm512_maskz_loadu_ps(m, x.sx + g);
    __m512 dv[N];  // weight scale * activation scale, one lane per block of this group
    for (int r = 0; r < N; r++) {
      const uint16_t* sc = reinterpret_cast<const uint16_t*>(rows[r] + L.scalesOffset);
      dv[r] = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, sc + g)), sx);
    }
    // int4: Σ (code - zp) q = Σ code·q - zp·Σq. The -zp·Σq of each block seeds the first int32
    // lane of the block's first chunk, so the per-block sum stays exact (see kernels_scalar.cc).
    __m512i zcorr[N];
    if (BITS == 4) {
      const __m512i xs = _mm512_maskz_loadu_epi32(m, x.xsum + g);
      for (int r = 0; r < N; r++) {
        const __m512i zp = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, rows[r] + L.zpOffset + g));
        zcorr[r] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_mullo_epi32(zp, xs));
      }
    }
    const int e0 = g * B, chunks = nb * B / 64;
    for (int c = 0; c < chunks; c++) {
      const int e = e0 + 64 * c;
      EXL_PREFETCH_STEP(L, pf, e >> 6);
      const __m512i xv = _mm512_load_si512(x.q + e);
      // int8 codes are value+128: start each block's sum at -128·Σq so the result is exact.
      const __m512i init = BITS == 8 ? _mm512_load_si512(x.corr8 + e / 4) : _mm512_setzero_si512();
      const __m512i idx = B == 32 ? _mm512_add_epi32(halfIdx, _mm512_set1_epi32(2 * c)) : _mm512_set1_epi32(c * 64 / B);
      // Lanes that start a block: 0 and 8 for block 32, lane 0 of a block's first chunk otherwise.
      const __mmask16 first = B == 32 ? (__mmask16)0x0101 : (__mmask16)((c * 64) % B == 0 ? 1 : 0);
      for (int r = 0; r < N; r++) {
        const __m512i w = BITS == 8 ? _mm512_load_si512(rows[r] + e) : unpack4(rows[r] + e / 2);
        const __m512i seed = BITS == 8 ? init : _mm512_maskz_permutexvar_epi32(first, idx, zcorr[r]);
        const __m512i s = _mm512_dpbusd_epi32(seed, w, xv);
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_permutexvar_ps(idx, dv[r]), acc[r]);
      }
    }
  }
  for (int r = 0; r < N; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

// 16 codes starting at element e (a multiple of 16) as int32 lanes.
template <int BITS>
inline __m512i codes16(const uint8_t* row, int e) {
  if (BITS == 8) return _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(row + e)));
  const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(row + ((e & ~63) >> 1) + (e & 16)));
  const __m512i w = _mm512_cvtepu8_epi32(v);
  return _mm512_and_si512((e & 32) ? _mm512_srli_epi32(w, 4) : w, _mm512_set1_epi32(15));
}

template <int BITS, int B, int N>
void axpyN(const Layout& L, const uint8_t* const* rows, const float* h, float* acc, float* scratch, const Prefetch& pf) {
  const int kb = L.kb;
  float* hs = scratch;             // [N][kb]: h_r * scale_r,b
  float* corr = scratch + 4 * kb;  // [kb]: Σ_r h_r * scale_r,b * zp_r,b, subtracted once per block
  for (int g = 0; g < kb; g += 16) {
    const int nb = kb - g < 16 ? kb - g : 16;
    const __mmask16 m = (__mmask16)((1u << nb) - 1);
    __m512 c = _mm512_setzero_ps();
    for (int r = 0; r < N; r++) {
      const uint16_t* sc = reinterpret_cast<const uint16_t*>(rows[r] + L.scalesOffset);
      const __m512 v = _mm512_mul_ps(_mm512_set1_ps(h[r]), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, sc + g)));
      _mm512_mask_storeu_ps(hs + r * kb + g, m, v);
      const __m512 zp = BITS == 8 ? _mm512_set1_ps(128.0f)
                                  : _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, rows[r] + L.zpOffset + g)));
      c = _mm512_fmadd_ps(v, zp, c);
    }
    _mm512_mask_storeu_ps(corr + g, m, c);
  }
  constexpr int S = B == 32 ? 5 : B == 64 ? 6 : B == 128 ? 7 : 8;
  for (int u = 0; u < L.dp; u += 64) {
    EXL_PREFETCH_STEP(L, pf, u >> 6);
    __m512 a[4];
    for (int q = 0; q < 4; q++) a[q] = _mm512_load_ps(acc + u + 16 * q);
    for (int r = 0; r < N; r++) {
      for (int q = 0; q < 4; q++) {
        const int e = u + 16 * q;
        const __m512 w = _mm512_cvtepi32_ps(codes16<BITS>(rows[r], e));
        a[q] = _mm512_fmadd_ps(w, _mm512_set1_ps(hs[r * kb + (e >> S)]), a[q]);
      }
    }
    for (int q = 0; q < 4; q++) {
      const int e = u + 16 * q;
      _mm512_store_ps(acc + e, _mm512_sub_ps(a[q], _mm512_set1_ps(corr[e >> S])));
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
void axpyB(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float* scratch, const Prefetch& pf) {
  switch (n) {
    case 1: return axpyN<BITS, B, 1>(L, rows, h, acc, scratch, pf);
    case 2: return axpyN<BITS, B, 2>(L, rows, h, acc, scratch, pf);
    case 3: return axpyN<BITS, B, 3>(L, rows, h, acc, scratch, pf);
    default: return axpyN<BITS, B, 4>(L, rows, h, acc, scratch, pf);
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
void axpyBits(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float* scratch, const Prefetch& pf) {
  switch (L.block) {
    case 32: return axpyB<BITS, 32>(L, rows, h, n, acc, scratch, pf);
    case 64: return axpyB<BITS, 64>(L, rows, h, n, acc, scratch, pf);
    case 128: return axpyB<BITS, 128>(L, rows, h, n, acc, scratch, pf);
    default: return axpyB<BITS, 256>(L, rows, h, n, acc, scratch, pf);
  }
}

void dot(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf) {
  L.bits == 8 ? dotBits<8>(L, rows, n, x, out, pf) : dotBits<4>(L, rows, n, x, out, pf);
}

void axpy(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float* scratch, const Prefetch& pf) {
  L.bits == 8 ? axpyBits<8>(L, rows, h, n, acc, scratch, pf) : axpyBits<4>(L, rows, h, n, acc, scratch, pf);
}

// q·k for one key (any hd), reduced to a scalar.
inline float dotKey(const float* q, const float* k, int hd) {
  __m512 s0 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 16 <= hd; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(k + i), s0);
  if (i < hd) {
    const __mmask16 m = (__mmask16)((1u << (hd - i)) - 1);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + i), s0);
  }
  return _mm512_reduce_add_ps(s0);
}

// Four keys at a time when hd is a multiple of 16: the four partial-sum vectors are reduced
// together (unpack/add across them), a third of the shuffles of four separate reductions.
// Scores of q against the four keys at k (hd a multiple of 16) into out[0..4).
inline void fourScores(const float* q, const float* k, int hd, float scale, float* out) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int i = 0; i < hd; i += 16) {
    const __m512 qi = _mm512_loadu_ps(q + i);
    s0 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(k + i), s0);
    s1 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(k + hd + i), s1);
    s2 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(k + 2 * hd + i), s2);
    s3 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(k + 3 * hd + i), s3);
  }
  // Per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] for (s0, s1) and (s2, s3) ...
  const __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(s0, s1), _mm512_unpackhi_ps(s0, s1));
  const __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(s2, s3), _mm512_unpackhi_ps(s2, s3));
  // ... then [s0, s1, s2, s3] partial sums per lane; the four lanes add up to the dots.
  const __m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23))),
                                 _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23))));
  const __m256 w = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
  const __m128 r = _mm_add_ps(_mm256_castps256_ps128(w), _mm256_extractf128_ps(w, 1));
  _mm_storeu_ps(out, _mm_mul_ps(r, _mm_set1_ps(scale)));
}

void scores(const float* q, const float* keys, int hd, int count, float scale, float* out) {
  int t = 0;
  if (hd % 16 == 0)
    for (; t + 4 <= count; t += 4) fourScores(q, keys + (size_t)t * hd, hd, scale, out + t);
  for (; t < count; t++) out[t] = dotKey(q, keys + (size_t)t * hd, hd) * scale;
}

// Every query's scores for four keys before the next four: the keys come from memory once and
// from L1 for the other queries.
void scoresGroup(const float* q, int nq, const float* keys, int hd, int count, float scale, float* out, int64_t stride) {
  int t = 0;
  if (hd % 16 == 0)
    for (; t + 4 <= count; t += 4)
      for (int i = 0; i < nq; i++) fourScores(q + (size_t)i * hd, keys + (size_t)t * hd, hd, scale, out + i * stride + t);
  for (; t < count; t++)
    for (int i = 0; i < nq; i++) out[i * stride + t] = dotKey(q + (size_t)i * hd, keys + (size_t)t * hd, hd) * scale;
}

// Σ p[t]·values[t] with four independent accumulators (an FMA chain's latency, not its
// throughput, bounds a single accumulator).
void mix(const float* p, const float* values, int hd, int count, float* out) {
  for (int i = 0; i < hd; i += 16) {
    const __mmask16 m = hd - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (hd - i)) - 1);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int t = 0;
    for (; t + 4 <= count; t += 4) {
      const float* v = values + (size_t)t * hd + i;
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[t]), _mm512_maskz_loadu_ps(m, v), a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[t + 1]), _mm512_maskz_loadu_ps(m, v + hd), a1);
      a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[t + 2]), _mm512_maskz_loadu_ps(m, v + 2 * hd), a2);
      a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[t + 3]), _mm512_maskz_loadu_ps(m, v + 3 * hd), a3);
    }
    for (; t < count; t++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[t]), _mm512_maskz_loadu_ps(m, values + (size_t)t * hd + i), a0);
    _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
  }
}

// mix for several queries: blocks of kMixKeys values (in L1) serve every query in turn; each
// query's four accumulators are parked in `acc` between blocks, so its sums run in mix's order.
constexpr int kMixKeys = 64;
void mixGroup(const float* p, int nq, int64_t stride, const float* values, int hd, int count, float* out) {
  __m512 acc[4 * 64];  // up to 64 queries per call
  for (int q0 = 0; q0 < nq; q0 += 64) {
    const int nb = nq - q0 < 64 ? nq - q0 : 64;
    for (int i = 0; i < hd; i += 16) {
      const __mmask16 m = hd - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (hd - i)) - 1);
      for (int j = 0; j < 4 * nb; j++) acc[j] = _mm512_setzero_ps();
      const int quads = count / 4 * 4;
      for (int b = 0; b < count; b += kMixKeys) {
        const int end = b + kMixKeys < quads ? b + kMixKeys : quads;
        const bool last = b + kMixKeys >= count;
        for (int qi = 0; qi < nb; qi++) {
          const float* pq = p + (q0 + qi) * stride;
          __m512 a0 = acc[4 * qi], a1 = acc[4 * qi + 1], a2 = acc[4 * qi + 2], a3 = acc[4 * qi + 3];
          for (int t = b; t < end; t += 4) {
            const float* v = values + (size_t)t * hd + i;
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(pq[t]), _mm512_maskz_loadu_ps(m, v), a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(pq[t + 1]), _mm512_maskz_loadu_ps(m, v + hd), a1);
            a2 = _mm512_fmadd_ps(_mm512_set1_ps(pq[t + 2]), _mm512_maskz_loadu_ps(m, v + 2 * hd), a2);
            a3 = _mm512_fmadd_ps(_mm512_set1_ps(pq[t + 3]), _mm512_maskz_loadu_ps(m, v + 3 * hd), a3);
          }
          if (last)
            for (int t = quads; t < count; t++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(pq[t]), _mm512_maskz_loadu_ps(m, values + (size_t)t * hd + i), a0);
          acc[4 * qi] = a0, acc[4 * qi + 1] = a1, acc[4 * qi + 2] = a2, acc[4 * qi + 3] = a3;
        }
      }
      for (int qi = 0; qi < nb; qi++)
        _mm512_mask_storeu_ps(out + (size_t)(q0 + qi) * hd + i, m,
                              _mm512_add_ps(_mm512_add_ps(acc[4 * qi], acc[4 * qi + 1]), _mm512_add_ps(acc[4 * qi + 2], acc[4 * qi + 3])));
    }
  }
}

// exp(x) for x ≤ 0: x = k·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r (relative error
// ~2e-7), then scaled by 2^k. Inputs below -87 give 0.
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  const __m512 r2 = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r2, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, k);
}

void softmax(float* s, int n) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + i));
  if (i < n) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), (__mmask16)((1u << (n - i)) - 1), s + i));
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + i), m));
    _mm512_mask_storeu_ps(s + i, k, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
  for (i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(s + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, s + i), inv));
  }
}

// exp512 is only accurate for x ≤ 0, so SiLU uses e^-|g|: for g ≥ 0, g / (1 + e^-g); for g < 0,
// g·e^g / (1 + e^g).
void siluMul(float* g, const float* u, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(k, g + i);
    const __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    const __m512 num = _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), x, e);
    const __m512 s = _mm512_div_ps(num, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(g + i, k, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(k, u + i)));
  }
}

void halvesToFloats(const uint16_t* h, int n, float* out) {
  int i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
  if (i < n) {
    const __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, k, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, h + i)));
  }
}

void floatsToHalves(const float* f, int n, uint16_t* out) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int i = 0;
  for (; i + 16 <= n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(f + i), kNearest));
  if (i < n) {
    const __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
    _mm256_mask_storeu_epi16(out + i, k, _mm512_cvtps_ph(_mm512_maskz_loadu_ps(k, f + i), kNearest));
  }
}

constexpr int kPrefetchAhead = 2048;

// One vpdpbusd per 4 inputs advances all 16 rows of the group; M activation rows share each load.
// Each row sums into A independent integer accumulators (step s into s % A): with few rows, one
// accumulator would chain every vpdpbusd behind the previous one's 5-cycle latency, slower than
// the memory bus. Integer sums do not depend on their order, so every M gives the same result.
template <int BITS, int M>
void packedM(const PackedLayout& P, const uint8_t* group, const XQuant* const* x, float* const* out) {
  constexpr int A = M <= 2 ? 4 : M <= 4 ? 2 : 1;
  const int B = P.block, kb = P.in.kb, steps = B / 4;  // steps: a multiple of 8 (blocks of ≥ 32)
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(group + P.scalesOffset);
  const uint8_t* zps = group + P.zpOffset;
  // The group's scales and zero points sit after its codes, far from where the codes' prefetch
  // runs, and the next group's first codes only come into its reach at the end: ask for both now
  // (prefetches never fault, also past the last group).
  for (uint64_t off = P.scalesOffset; off < P.groupBytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(group + off), _MM_HINT_T0);
  for (int off = 0; off < kPrefetchAhead; off += 64) _mm_prefetch(reinterpret_cast<const char*>(group + P.groupBytes + off), _MM_HINT_T0);
  __m512 acc[M];
  for (int m = 0; m < M; m++) acc[m] = _mm512_setzero_ps();
  const __m512i nib = _mm512_set1_epi8(0x0f);
  for (int b = 0; b < kb; b++) {
    const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
    __m512i ia[M][A];
    for (int m = 0; m < M; m++)
      for (int a = 0; a < A; a++) ia[m][a] = _mm512_setzero_si512();
    __m512i lo[M];  // Q6_K: the sums over the block's first 16 inputs
    // Four steps (4 x 4 inputs) per iteration: four 64-byte loads of int8 codes, or two of int4.
    for (int j = 0; j < steps; j += 4) {
      if (BITS == 6 && j == 4) {
        for (int m = 0; m < M; m++) {
          lo[m] = ia[m][0];
          for (int a = 1; a < A; a++) lo[m] = _mm512_add_epi32(lo[m], ia[m][a]);
          for (int a = 0; a < A; a++) ia[m][a] = _mm512_setzero_si512();
        }
      }
      __m512i w[4];
      // Software prefetch ahead, into L2 from 8 KiB ahead and into L1 from 2 KiB: two threads
      // alone cannot keep enough cache-line misses in flight for the memory bus on the hardware
      // prefetchers' guesses (one 5632x2048 int4 matrix, one thread: 10.4 -> 12.8 GB/s at 1 KiB;
      // 7B shapes in Q4_0's 18-byte blocks, 2 threads: 10.1 -> 12.0 tok/s going from 1 to 2 KiB,
      // 9.6 at 4 KiB).
      if (BITS == 8) {
        for (int i = 0; i < 4; i++) {
          _mm_prefetch(reinterpret_cast<const char*>(codes + 64 * (j + i) + kPrefetchAhead), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(codes + 64 * (j + i) + 4 * kPrefetchAhead), _MM_HINT_T1);
        }
        for (int i = 0; i < 4; i++) w[i] = _mm512_load_si512(codes + 64 * (j + i));
      } else if (BITS == 6) {  // K6: low nibbles as int4, then the top two bits of four steps per line
        for (const uint64_t off : {(uint64_t)32 * j, (uint64_t)32 * j + 64, (uint64_t)256 + 16 * j}) {
          _mm_prefetch(reinterpret_cast<const char*>(codes + off + kPrefetchAhead), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(codes + off + 4 * kPrefetchAhead), _MM_HINT_T1);
        }
        const __m512i v0 = _mm512_load_si512(codes + 32 * j), v1 = _mm512_load_si512(codes + 32 * j + 64);
        const __m512i top = _mm512_load_si512(codes + 256 + 16 * j), two = _mm512_set1_epi8(0x30);
        // 16-bit shifts: what crosses into a neighbouring byte lands outside the 0x30 mask.
        w[0] = _mm512_or_si512(_mm512_and_si512(v0, nib), _mm512_and_si512(_mm512_slli_epi16(top, 4), two));
        w[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v0, 4), nib), _mm512_and_si512(_mm512_slli_epi16(top, 2), two));
        w[2] = _mm512_or_si512(_mm512_and_si512(v1, nib), _mm512_and_si512(top, two));
        w[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v1, 4), nib), _mm512_and_si512(_mm512_srli_epi16(top, 2), two));
      } else {
        _mm_prefetch(reinterpret_cast<const char*>(codes + 32 * j + kPrefetchAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(codes + 32 * j + 64 + kPrefetchAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(codes + 32 * j + 4 * kPrefetchAhead), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(codes + 32 * j + 64 + 4 * kPrefetchAhead), _MM_HINT_T1);
        const __m512i v0 = _mm512_load_si512(codes + 32 * j), v1 = _mm512_load_si512(codes + 32 * j + 64);
        w[0] = _mm512_and_si512(v0, nib);
        w[1] = _mm512_and_si512(_mm512_srli_epi16(v0, 4), nib);
        w[2] = _mm512_and_si512(v1, nib);
        w[3] = _mm512_and_si512(_mm512_srli_epi16(v1, 4), nib);
        if (BITS == 5) {  // 5-bit codes: step s's fifth bit (bit s of the block's last line) to bit 4
          if (j == 0) {
            _mm_prefetch(reinterpret_cast<const char*>(codes + 256 + kPrefetchAhead), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(codes + 256 + 4 * kPrefetchAhead), _MM_HINT_T1);
          }
          const __m512i fifth = _mm512_load_si512(codes + 256), bit4 = _mm512_set1_epi8(0x10);
          // 16-bit shifts: what crosses into a neighbouring byte lands outside bit 4.
          for (int i = 0; i < 4; i++) {
            const int s = j + i;
            const __m512i at4 = s <= 4 ? _mm512_sll_epi16(fifth, _mm_cvtsi32_si128(4 - s)) : _mm512_srl_epi16(fifth, _mm_cvtsi32_si128(s - 4));
            w[i] = _mm512_or_si512(w[i], _mm512_and_si512(at4, bit4));
          }
        }
      }
      for (int m = 0; m < M; m++) {
        const int8_t* q = x[m]->q + b * B + 4 * j;
        for (int i = 0; i < 4; i++) {
          int32_t qi;
          std::memcpy(&qi, q + 4 * i, 4);
          ia[m][i % A] = _mm512_dpbusd_epi32(ia[m][i % A], w[i], _mm512_set1_epi32(qi));
        }
      }
    }
    if (BITS == 6) {
      // K6: each half of 16 inputs Σ (code - 32)·q times its own scale d·sc, less M·Σq (packed.h).
      const uint16_t* d16 = reinterpret_cast<const uint16_t*>(group + P.superOffset) + (b / 8) * kPackRows;
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16)));
      __m512 Mn = _mm512_setzero_ps();
      if (P.kmins) {
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16 + (kb / 8) * kPackRows)));
        Mn = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + P.zpOffset + b * kPackRows)))));
      }
      const auto scale = [&](int h) {
        const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group + P.scalesOffset + (2 * b + h) * kPackRows));
        return _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc)));
      };
      const __m512 s0 = scale(0), s1 = scale(1), c32 = _mm512_set1_ps(32.0f);
      for (int m = 0; m < M; m++) {
        __m512i hi = ia[m][0];
        for (int a = 1; a < A; a++) hi = _mm512_add_epi32(hi, ia[m][a]);
        const float qlo = (float)x[m]->xsumLo[b], qhi = (float)(x[m]->xsum[b] - x[m]->xsumLo[b]);
        const __m512 f0 = _mm512_fnmadd_ps(c32, _mm512_set1_ps(qlo), _mm512_cvtepi32_ps(lo[m]));
        const __m512 f1 = _mm512_fnmadd_ps(c32, _mm512_set1_ps(qhi), _mm512_cvtepi32_ps(hi));
        const __m512 f = _mm512_sub_ps(_mm512_fmadd_ps(s1, f1, _mm512_mul_ps(s0, f0)),
                                       _mm512_mul_ps(Mn, _mm512_set1_ps((float)x[m]->xsum[b])));
        acc[m] = _mm512_fmadd_ps(f, _mm512_set1_ps(x[m]->sx[b]), acc[m]);
      }
      continue;
    }
    if ((BITS == 4 || BITS == 5) && P.kquant) {
      // Q4_K, Q5_K: Σ (S·code - M)·q = S·Σ code·q - M·Σq, with S = d·sc and M = dmin·m (packed.h).
      const uint16_t* d16 = reinterpret_cast<const uint16_t*>(group + P.superOffset) + (b / 8) * kPackRows;
      const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16)));
      const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16 + (kb / 8) * kPackRows)));
      const auto six = [&](uint64_t off) {
        return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(packedSixRows(group + off, kb, b)));
      };
      const __m512 S = _mm512_mul_ps(d, six(P.scalesOffset)), Mn = _mm512_mul_ps(dmin, six(P.zpOffset));
      for (int m = 0; m < M; m++) {
        __m512i sum = ia[m][0];
        for (int a = 1; a < A; a++) sum = _mm512_add_epi32(sum, ia[m][a]);
        const __m512 f = _mm512_sub_ps(_mm512_mul_ps(S, _mm512_cvtepi32_ps(sum)), _mm512_mul_ps(Mn, _mm512_set1_ps((float)x[m]->xsum[b])));
        acc[m] = _mm512_fmadd_ps(f, _mm512_set1_ps(x[m]->sx[b]), acc[m]);
      }
      continue;
    }
    // Σ (code - zp)·q = Σ code·q - zp·Σq; both terms are integers below 2^24, so the subtraction
    // in float is exact and cheaper than a 32-bit integer multiply.
    const __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + b * kPackRows)));
    const int shared = sharedZeroPoint(P);
    const __m512 zp = shared >= 0 ? _mm512_set1_ps((float)shared)
                                  : _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(zps + b * kPackRows))));
    // The mins form (Q4_1, Q5_1): + min·Σq.
    const __m512 mn = P.mins ? _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(zps + 2 * b * kPackRows))) : _mm512_setzero_ps();
    for (int m = 0; m < M; m++) {
      __m512i sum = ia[m][0];
      for (int a = 1; a < A; a++) sum = _mm512_add_epi32(sum, ia[m][a]);
      const __m512 xsum = _mm512_set1_ps((float)x[m]->xsum[b]), sx = _mm512_set1_ps(x[m]->sx[b]);
      const __m512 f = _mm512_fnmadd_ps(zp, xsum, _mm512_cvtepi32_ps(sum));
      acc[m] = _mm512_fmadd_ps(f, _mm512_mul_ps(sc, sx), acc[m]);
      if (P.mins) acc[m] = _mm512_fmadd_ps(_mm512_mul_ps(mn, xsum), sx, acc[m]);
    }
  }
  for (int m = 0; m < M; m++) _mm512_storeu_ps(out[m], acc[m]);
}

template <int BITS>
void packedBits(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out) {
  // Up to 8 rows share each weight load (8 + 8 accumulators fit the 32 vector registers).
  switch (rows) {
    case 1: return packedM<BITS, 1>(P, group, x, out);
    case 2: return packedM<BITS, 2>(P, group, x, out);
    case 3: return packedM<BITS, 3>(P, group, x, out);
    case 4: return packedM<BITS, 4>(P, group, x, out);
    case 5: return packedM<BITS, 5>(P, group, x, out);
    case 6: return packedM<BITS, 6>(P, group, x, out);
    case 7: return packedM<BITS, 7>(P, group, x, out);
    default: return packedM<BITS, 8>(P, group, x, out);
  }
}

void packed(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out) {
  switch (P.bits) {
    case 8: return packedBits<8>(P, group, rows, x, out);
    case 6: return packedBits<6>(P, group, rows, x, out);
    case 5: return packedBits<5>(P, group, rows, x, out);
    default: return packedBits<4>(P, group, rows, x, out);
  }
}

// quantizeActivation (quantize.cc) sixteen values at a time, with the same operations so the
// codes are identical: max |x| on the bit patterns, one scalar reciprocal per block, the product
// rounded to nearest even (roundscale, as the scalar magic-number add does below 2^22), clamped.
// Padding lanes load as zero, which is what the scalar code writes there.
bool quantize(const Layout& L, const float* x, XQuant& out) {
  const int B = L.block;
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  for (int b = 0; b < L.kb; b++) {
    const int start = b * B;
    const int count = start >= L.d ? 0 : (L.d - start < B ? L.d - start : B);
    const float* xb = x + start;
    __m512 v[16];  // B ≤ 256
    __m512i top = _mm512_setzero_si512();
    for (int i = 0; i < B / 16; i++) {
      const int left = count - 16 * i;
      const __mmask16 m = left >= 16 ? (__mmask16)0xffff : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
      v[i] = _mm512_maskz_loadu_ps(m, xb + 16 * i);
      top = _mm512_max_epu32(top, _mm512_and_si512(_mm512_castps_si512(v[i]), magnitude));
    }
    const uint32_t t = (uint32_t)_mm512_reduce_max_epu32(top);
    if (t >= 0x7f800000u) return false;  // NaN or infinity
    float amax;
    std::memcpy(&amax, &t, 4);
    const float id = amax > 0 ? 127.0f / amax : 0.0f;
    const __m512 scale = _mm512_set1_ps(id);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    __m512i sum = _mm512_setzero_si512();
    int8_t* q = out.q + start;
    for (int i = 0; i < B / 16; i++) {
      const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(v[i], scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512i c = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(r), lo), hi);
      sum = _mm512_add_epi32(sum, c);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * i), _mm512_cvtepi32_epi8(c));
    }
    setBlockStats(out, b, start, B, amax, _mm512_reduce_add_epi32(sum));
  }
  return true;
}

const Kernels kAvx512 = {"avx512-vnni", dot, axpy, scores, mix, scoresGroup, mixGroup, softmax, siluMul, packed, 8, quantize, nullptr, halvesToFloats, floatsToHalves};

}  // namespace

const Kernels* avx512Kernels() { return &kAvx512; }

}  // namespace exl

#if defined(__GNUC__)
#pragma GCC pop_options
#endif
#else
namespace exl {
const Kernels* avx512Kernels() { return nullptr; }
}
#endif
