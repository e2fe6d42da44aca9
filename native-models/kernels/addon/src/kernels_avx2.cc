// AVX2 + FMA + F16C kernels (x86-64 CPUs since ~2013 without AVX-512 VNNI). Compiled with a
// target pragma; selected only after a run-time CPU check. No C++ library templates here (see
// kernels_avx512.cc).
#include "layout.h"
#include "kernels_x86.h"
#include "packed.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <cmath>
#include <cstring>
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

inline float hsum256(__m256 s0) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  return _mm_cvtss_f32(h);
}

// Scores of q against the four keys at k (hd a multiple of 8), reduced together (see kernels_avx512.cc).
inline void fourScores(const float* q, const float* k, int hd, float scale, float* out) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int i = 0; i < hd; i += 8) {
    const __m256 qi = _mm256_loadu_ps(q + i);
    s0 = _mm256_fmadd_ps(qi, _mm256_loadu_ps(k + i), s0);
    s1 = _mm256_fmadd_ps(qi, _mm256_loadu_ps(k + hd + i), s1);
    s2 = _mm256_fmadd_ps(qi, _mm256_loadu_ps(k + 2 * hd + i), s2);
    s3 = _mm256_fmadd_ps(qi, _mm256_loadu_ps(k + 3 * hd + i), s3);
  }
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
  const __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  _mm_storeu_ps(out, _mm_mul_ps(r, _mm_set1_ps(scale)));
}

inline float oneScore(const float* q, const float* k, int hd, float scale) {
  __m256 s0 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= hd; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), s0);
  float s = hsum256(s0);
  for (; i < hd; i++) s += q[i] * k[i];
  return s * scale;
}

void scores(const float* q, const float* keys, int hd, int count, float scale, float* out) {
  int t = 0;
  if (hd % 8 == 0)
    for (; t + 4 <= count; t += 4) fourScores(q, keys + (size_t)t * hd, hd, scale, out + t);
  for (; t < count; t++) out[t] = oneScore(q, keys + (size_t)t * hd, hd, scale);
}

// Every query's scores for four keys before the next four (see kernels_avx512.cc).
void scoresGroup(const float* q, int nq, const float* keys, int hd, int count, float scale, float* out, int64_t stride) {
  int t = 0;
  if (hd % 8 == 0)
    for (; t + 4 <= count; t += 4)
      for (int i = 0; i < nq; i++) fourScores(q + (size_t)i * hd, keys + (size_t)t * hd, hd, scale, out + i * stride + t);
  for (; t < count; t++)
    for (int i = 0; i < nq; i++) out[i * stride + t] = oneScore(q + (size_t)i * hd, keys + (size_t)t * hd, hd, scale);
}

// Four independent accumulators (see kernels_avx512.cc).
void mix(const float* p, const float* values, int hd, int count, float* out) {
  int i = 0;
  for (; i + 8 <= hd; i += 8) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int t = 0;
    for (; t + 4 <= count; t += 4) {
      const float* v = values + (size_t)t * hd + i;
      a0 = _mm256_fmadd_ps(_mm256_set1_ps(p[t]), _mm256_loadu_ps(v), a0);
      a1 = _mm256_fmadd_ps(_mm256_set1_ps(p[t + 1]), _mm256_loadu_ps(v + hd), a1);
      a2 = _mm256_fmadd_ps(_mm256_set1_ps(p[t + 2]), _mm256_loadu_ps(v + 2 * hd), a2);
      a3 = _mm256_fmadd_ps(_mm256_set1_ps(p[t + 3]), _mm256_loadu_ps(v + 3 * hd), a3);
    }
    for (; t < count; t++) a0 = _mm256_fmadd_ps(_mm256_set1_ps(p[t]), _mm256_loadu_ps(values + (size_t)t * hd + i), a0);
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
  for (; i < hd; i++) {
    float acc = 0;
    for (int t = 0; t < count; t++) acc += p[t] * values[(size_t)t * hd + i];
    out[i] = acc;
  }
}

// mix for several queries in blocks of keys that stay in L1 (see kernels_avx512.cc); hd a
// multiple of 8, else one query at a time.
constexpr int kMixKeys = 64;
void mixGroup(const float* p, int nq, int64_t stride, const float* values, int hd, int count, float* out) {
  if (hd % 8 != 0) {
    for (int q = 0; q < nq; q++) mix(p + q * stride, values, hd, count, out + (size_t)q * hd);
    return;
  }
  __m256 acc[4 * 64];
  for (int q0 = 0; q0 < nq; q0 += 64) {
    const int nb = nq - q0 < 64 ? nq - q0 : 64;
    for (int i = 0; i < hd; i += 8) {
      for (int j = 0; j < 4 * nb; j++) acc[j] = _mm256_setzero_ps();
      const int quads = count / 4 * 4;
      for (int b = 0; b < count; b += kMixKeys) {
        const int end = b + kMixKeys < quads ? b + kMixKeys : quads;
        const bool last = b + kMixKeys >= count;
        for (int qi = 0; qi < nb; qi++) {
          const float* pq = p + (q0 + qi) * stride;
          __m256 a0 = acc[4 * qi], a1 = acc[4 * qi + 1], a2 = acc[4 * qi + 2], a3 = acc[4 * qi + 3];
          for (int t = b; t < end; t += 4) {
            const float* v = values + (size_t)t * hd + i;
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(pq[t]), _mm256_loadu_ps(v), a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(pq[t + 1]), _mm256_loadu_ps(v + hd), a1);
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(pq[t + 2]), _mm256_loadu_ps(v + 2 * hd), a2);
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(pq[t + 3]), _mm256_loadu_ps(v + 3 * hd), a3);
          }
          if (last)
            for (int t = quads; t < count; t++) a0 = _mm256_fmadd_ps(_mm256_set1_ps(pq[t]), _mm256_loadu_ps(values + (size_t)t * hd + i), a0);
          acc[4 * qi] = a0, acc[4 * qi + 1] = a1, acc[4 * qi + 2] = a2, acc[4 * qi + 3] = a3;
        }
      }
      for (int qi = 0; qi < nb; qi++)
        _mm256_storeu_ps(out + (size_t)(q0 + qi) * hd + i,
                         _mm256_add_ps(_mm256_add_ps(acc[4 * qi], acc[4 * qi + 1]), _mm256_add_ps(acc[4 * qi + 2], acc[4 * qi + 3])));
    }
  }
}

// exp(x) for x ≤ 0 (see kernels_avx512.cc); 2^k built in the exponent bits.
inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  const __m256 r2 = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r2, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

void halvesToFloats(const uint16_t* h, int n, float* out) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  for (; i < n; i++) out[i] = _cvtsh_ss(h[i]);
}

void floatsToHalves(const float* f, int n, uint16_t* out) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(f + i), kNearest));
  for (; i < n; i++) out[i] = floatToHalf(f[i]);
}

void softmax(float* s, int n) {
  float max = -INFINITY;
  for (int i = 0; i < n; i++) max = s[i] > max ? s[i] : max;
  const __m256 m = _mm256_set1_ps(max);
  __m256 sum = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + i), m));
    _mm256_storeu_ps(s + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  float tail = 0;
  for (; i < n; i++) {
    float v[8] = {s[i] - max, 0, 0, 0, 0, 0, 0, 0};
    float e[8];
    _mm256_storeu_ps(e, exp256(_mm256_loadu_ps(v)));
    tail += (s[i] = e[0]);
  }
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  const float inv = 1.0f / (_mm_cvtss_f32(h) + tail);
  for (i = 0; i < n; i++) s[i] *= inv;
}

// SiLU with e^-|g| (exp256 wants x ≤ 0); see kernels_avx512.cc.
void siluMul(float* g, const float* u, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i);
    const __m256 e = exp256(_mm256_or_ps(x, sign));  // -|x|
    const __m256 num = _mm256_blendv_ps(x, _mm256_mul_ps(x, e), _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(num, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
  }
  for (; i < n; i++) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

// Two halves of eight rows; per 4 inputs one maddubs + madd per half (int8 weights as signed bytes
// with the sign trick, so nothing saturates; int4 codes are small unsigned bytes).
template <int BITS, int M>
void packedM(const PackedLayout& P, const uint8_t* group, const XQuant* const* x, float* const* out) {
  const int B = P.block, kb = P.in.kb, steps = B / 4;
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(group + P.scalesOffset);
  const uint8_t* zps = group + P.zpOffset;
  const __m256i ones = _mm256_set1_epi16(1), nib = _mm256_set1_epi8(0x0f), flip = _mm256_set1_epi8((char)0x80);
  // Prefetch as the AVX-512 kernel does (see kernels_avx512.cc): the group's scales and zero
  // points and the next group's first codes now, the codes 2 KiB (L1) and 8 KiB (L2) ahead (four
  // 11008x4096 Q4_0-grid matrices, 2 threads, on an AVX-512 host: 36.6 GB/s at 1 KiB, 40.4 at 2, 40.2 at 4).
  constexpr int kAhead = 2048;
  for (uint64_t off = P.scalesOffset; off < P.groupBytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(group + off), _MM_HINT_T0);
  for (int off = 0; off < kAhead; off += 64) _mm_prefetch(reinterpret_cast<const char*>(group + P.groupBytes + off), _MM_HINT_T0);
  __m256 acc[M][2];
  for (int m = 0; m < M; m++) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
  for (int b = 0; b < kb; b++) {
    const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
    __m256i ia[M][2];
    for (int m = 0; m < M; m++) ia[m][0] = ia[m][1] = _mm256_setzero_si256();
    __m256i lo[M][2];  // Q6_K: the sums over the block's first 16 inputs
    for (int j = 0; j < steps; j++) {
      if (BITS == 6 && j == 4) {
        for (int m = 0; m < M; m++)
          for (int h = 0; h < 2; h++) lo[m][h] = ia[m][h], ia[m][h] = _mm256_setzero_si256();
      }
      if (BITS == 8 || j % 2 == 0) {
        const uint8_t* line = codes + 64 * (BITS == 8 ? j : j / 2);
        _mm_prefetch(reinterpret_cast<const char*>(line + kAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(line + 4 * kAhead), _MM_HINT_T1);
      }
      if (BITS == 5 && j == 0) {  // 5-bit codes: the line of fifth bits
        _mm_prefetch(reinterpret_cast<const char*>(codes + 256 + kAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(codes + 256 + 4 * kAhead), _MM_HINT_T1);
      }
      if (BITS == 6 && j % 4 == 0) {  // K6: the line of top bits for these four steps
        const uint8_t* line = codes + 256 + 64 * (j / 4);
        _mm_prefetch(reinterpret_cast<const char*>(line + kAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(line + 4 * kAhead), _MM_HINT_T1);
      }
      // K6: step j's top two bits to bits 4-5 (16-bit shifts: what crosses bytes is masked off).
      const __m128i topLeft = _mm_cvtsi32_si128(j % 4 < 2 ? 4 - 2 * (j % 4) : 0);
      const __m128i topRight = _mm_cvtsi32_si128(j % 4 < 2 ? 0 : 2 * (j % 4) - 4);
      for (int h = 0; h < 2; h++) {
        __m256i w;
        if (BITS == 8) {
          w = _mm256_xor_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 64 * j + 32 * h)), flip);
        } else {
          const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 64 * (j / 2) + 32 * h));
          w = (j & 1) ? _mm256_and_si256(_mm256_srli_epi16(v, 4), nib) : _mm256_and_si256(v, nib);
          if (BITS == 5) {  // 5-bit codes: step j's fifth bit (bit j of the block's last line) to bit 4
            const __m256i fifth = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 256 + 32 * h));
            const __m256i at4 = j <= 4 ? _mm256_sll_epi16(fifth, _mm_cvtsi32_si128(4 - j)) : _mm256_srl_epi16(fifth, _mm_cvtsi32_si128(j - 4));
            w = _mm256_or_si256(w, _mm256_and_si256(at4, _mm256_set1_epi8(0x10)));
          }
          if (BITS == 6) {
            const __m256i top = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + 256 + 64 * (j / 4) + 32 * h));
            w = _mm256_or_si256(w, _mm256_and_si256(_mm256_srl_epi16(_mm256_sll_epi16(top, topLeft), topRight), _mm256_set1_epi8(0x30)));
          }
        }
        for (int m = 0; m < M; m++) {
          int32_t q4;
          std::memcpy(&q4, x[m]->q + b * B + 4 * j, 4);
          const __m256i q = _mm256_set1_epi32(q4);
          const __m256i p = BITS == 8 ? _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(q, w)) : _mm256_maddubs_epi16(w, q);
          ia[m][h] = _mm256_add_epi32(ia[m][h], _mm256_madd_epi16(p, ones));
        }
      }
    }
    if (BITS == 6) {
      // K6: each half of 16 inputs Σ (code - 32)·q times its own scale d·sc, less M·Σq (packed.h).
      const uint16_t* d16 = reinterpret_cast<const uint16_t*>(group + P.superOffset) + (b / 8) * kPackRows;
      for (int h = 0; h < 2; h++) {
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d16 + 8 * h)));
        const auto scale = [&](int half) {
          const __m128i sc = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(group + P.scalesOffset + (2 * b + half) * kPackRows + 8 * h));
          return _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)));
        };
        const __m256 s0 = scale(0), s1 = scale(1), c32 = _mm256_set1_ps(32.0f);
        __m256 Mn = _mm256_setzero_ps();
        if (P.kmins) {
          const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d16 + (kb / 8) * kPackRows + 8 * h)));
          Mn = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(group + P.zpOffset + b * kPackRows + 8 * h)))));
        }
        for (int m = 0; m < M; m++) {
          const float qlo = (float)x[m]->xsumLo[b], qhi = (float)(x[m]->xsum[b] - x[m]->xsumLo[b]);
          const __m256 f0 = _mm256_fnmadd_ps(c32, _mm256_set1_ps(qlo), _mm256_cvtepi32_ps(lo[m][h]));
          const __m256 f1 = _mm256_fnmadd_ps(c32, _mm256_set1_ps(qhi), _mm256_cvtepi32_ps(ia[m][h]));
          const __m256 f = _mm256_sub_ps(_mm256_fmadd_ps(s1, f1, _mm256_mul_ps(s0, f0)),
                                         _mm256_mul_ps(Mn, _mm256_set1_ps((float)x[m]->xsum[b])));
          acc[m][h] = _mm256_fmadd_ps(f, _mm256_set1_ps(x[m]->sx[b]), acc[m][h]);
        }
      }
      continue;
    }
    if ((BITS == 4 || BITS == 5) && P.kquant) {
      // Q4_K, Q5_K: Σ (S·code - M)·q = S·Σ code·q - M·Σq, with S = d·sc and M = dmin·m (packed.h).
      const uint16_t* d16 = reinterpret_cast<const uint16_t*>(group + P.superOffset) + (b / 8) * kPackRows;
      const __m128i sc6 = packedSixRows(group + P.scalesOffset, kb, b), m6 = packedSixRows(group + P.zpOffset, kb, b);
      for (int h = 0; h < 2; h++) {
        const auto half = [&](const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8 * h))); };
        const auto bytes = [&](__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(h ? _mm_srli_si128(v, 8) : v)); };
        const __m256 S = _mm256_mul_ps(half(d16), bytes(sc6));
        const __m256 Mn = _mm256_mul_ps(half(d16 + (kb / 8) * kPackRows), bytes(m6));
        for (int m = 0; m < M; m++) {
          const __m256 f = _mm256_sub_ps(_mm256_mul_ps(S, _mm256_cvtepi32_ps(ia[m][h])), _mm256_mul_ps(Mn, _mm256_set1_ps((float)x[m]->xsum[b])));
          acc[m][h] = _mm256_fmadd_ps(f, _mm256_set1_ps(x[m]->sx[b]), acc[m][h]);
        }
      }
      continue;
    }
    for (int h = 0; h < 2; h++) {
      const __m256 sc = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + b * kPackRows + 8 * h)));
      // int8 codes were flipped to signed bytes above, which takes their 128 off already.
      const int shared = BITS == 8 ? 0 : sharedZeroPoint(P);
      const __m256i zp = shared >= 0 ? _mm256_set1_epi32(shared)
                                     : _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zps + b * kPackRows + 8 * h)));
      // The mins form (Q4_1, Q5_1): + min·Σq.
      const __m256 mn = P.mins ? _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(zps + 2 * (b * kPackRows + 8 * h)))) : _mm256_setzero_ps();
      for (int m = 0; m < M; m++) {
        const __m256i corr = _mm256_mullo_epi32(zp, _mm256_set1_epi32(x[m]->xsum[b]));
        const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(ia[m][h], corr));
        const __m256 sx = _mm256_set1_ps(x[m]->sx[b]);
        acc[m][h] = _mm256_fmadd_ps(f, _mm256_mul_ps(sc, sx), acc[m][h]);
        if (P.mins) acc[m][h] = _mm256_fmadd_ps(_mm256_mul_ps(mn, _mm256_set1_ps((float)x[m]->xsum[b])), sx, acc[m][h]);
      }
    }
  }
  for (int m = 0; m < M; m++) {
    _mm256_storeu_ps(out[m], acc[m][0]);
    _mm256_storeu_ps(out[m] + 8, acc[m][1]);
  }
}

template <int BITS>
void packedBits(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out) {
  switch (rows) {
    case 1: return packedM<BITS, 1>(P, group, x, out);
    case 2: return packedM<BITS, 2>(P, group, x, out);
    case 3: return packedM<BITS, 3>(P, group, x, out);
    default: return packedM<BITS, 4>(P, group, x, out);
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

const Kernels kAvx2 = {"avx2", dot, axpy, scores, mix, scoresGroup, mixGroup, softmax, siluMul, packed, 4, nullptr, nullptr, halvesToFloats, floatsToHalves};

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
