// Portable kernels: the reference for the SIMD paths and the fallback on CPUs without them.
#include <cmath>

#include "layout.h"
#include "packed.h"

namespace exl {
namespace {

// Code of element e of a row.
inline int codeAt(const Layout& L, const uint8_t* row, int e) {
  if (L.bits == 8) return row[e];
  const uint8_t byte = row[((e & ~63) >> 1) + (e & 31)];
  return (e & 63) < 32 ? (byte & 15) : (byte >> 4);
}

inline int zeroPoint(const Layout& L, const uint8_t* row, int b) { return L.bits == 8 ? 128 : row[L.zpOffset + b]; }

inline float scaleAt(const Layout& L, const uint8_t* row, int b) {
  return halfToFloat(reinterpret_cast<const uint16_t*>(row + L.scalesOffset)[b]);
}

void dot(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch&) {
  for (int r = 0; r < n; r++) {
    const uint8_t* row = rows[r];
    float acc = 0;
    for (int b = 0; b < L.kb; b++) {
      int32_t isum = 0;
      for (int j = b * L.block, end = j + L.block; j < end; j++) isum += codeAt(L, row, j) * x.q[j];
      // Σ (code - zp) q = Σ code·q - zp·Σq, in integers (exact).
      isum -= zeroPoint(L, row, b) * x.xsum[b];
      acc += scaleAt(L, row, b) * x.sx[b] * (float)isum;
    }
    out[r] = acc;
  }
}

void axpy(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float*, const Prefetch&) {
  for (int r = 0; r < n; r++) {
    const uint8_t* row = rows[r];
    for (int b = 0; b < L.kb; b++) {
      const float hs = h[r] * scaleAt(L, row, b);
      const int zp = zeroPoint(L, row, b);
      for (int j = b * L.block, end = j + L.block; j < end; j++) acc[j] += hs * (float)(codeAt(L, row, j) - zp);
    }
  }
}

// Four independent sums, so the loop is not one long dependency chain.
void scores(const float* q, const float* keys, int hd, int count, float scale, float* out) {
  for (int t = 0; t < count; t++) {
    const float* k = keys + (size_t)t * hd;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= hd; i += 4) {
      s0 += q[i] * k[i];
      s1 += q[i + 1] * k[i + 1];
      s2 += q[i + 2] * k[i + 2];
      s3 += q[i + 3] * k[i + 3];
    }
    for (; i < hd; i++) s0 += q[i] * k[i];
    out[t] = ((s0 + s1) + (s2 + s3)) * scale;
  }
}

void mix(const float* p, const float* values, int hd, int count, float* out) {
  for (int i = 0; i < hd; i++) out[i] = 0;
  for (int t = 0; t < count; t++) {
    const float* v = values + (size_t)t * hd;
    for (int i = 0; i < hd; i++) out[i] += p[t] * v[i];
  }
}

}  // namespace

void scalarSoftmax(float* s, int n) {
  float max = -INFINITY;
  for (int i = 0; i < n; i++) max = s[i] > max ? s[i] : max;
  float sum = 0;
  for (int i = 0; i < n; i++) sum += (s[i] = std::exp(s[i] - max));
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; i++) s[i] *= inv;
}

void scalarSiluMul(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

// Integer sums per block, exact; then one float multiply-add per block in block order.
void scalarPacked(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out) {
  const int B = P.block, kb = P.in.kb;
  for (int m = 0; m < rows; m++) {
    for (int r = 0; r < kPackRows; r++) {
      float acc = 0;
      for (int b = 0; b < kb; b++) {
        const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
        int32_t isum = 0, lo = 0;
        for (int j = 0; j < B; j++) {
          if (j == 16) lo = isum;
          const int step = j / 4, byteInStep = r * 4 + (j & 3);
          const int code = P.k6 ? packedK6Code(P, group, b, r, j)
                           : P.bits == 5 ? packedQ5Code(P, group, b, r, j)
                           : P.bits == 8 ? codes[step * 64 + byteInStep]
                                         : (step % 2 == 0 ? codes[(step / 2) * 64 + byteInStep] & 15 : codes[(step / 2) * 64 + byteInStep] >> 4);
          isum += code * x[m]->q[b * B + j];
        }
        if (P.k6) {  // two halves of 16, each Σ (code - 32)·q times its scale, less the min's M·Σq
          const int32_t qlo = x[m]->xsumLo[b], qhi = x[m]->xsum[b] - qlo;
          const float f = packedK6Scale(P, group, b, 0, r) * (float)(lo - 32 * qlo) +
                          packedK6Scale(P, group, b, 1, r) * (float)(isum - lo - 32 * qhi) -
                          packedKMin(P, group, b, r) * (float)x[m]->xsum[b];
          acc += f * x[m]->sx[b];
          continue;
        }
        if (P.kquant) {  // Σ (S·code - M)·q = S·Σ code·q - M·Σq
          const float f = packedKScale(P, group, b, r) * (float)isum - packedKMin(P, group, b, r) * (float)x[m]->xsum[b];
          acc += f * x[m]->sx[b];
          continue;
        }
        isum -= packedZeroPoint(P, group, b, r) * x[m]->xsum[b];
        acc += (float)isum * (packedScale(P, group, b, r) * x[m]->sx[b]);
        if (P.mins) acc += packedMin(P, group, b, r) * (float)x[m]->xsum[b] * x[m]->sx[b];  // Σ min·q
      }
      out[m][r] = acc;
    }
  }
}

namespace {
const Kernels kScalar = {"scalar", dot, axpy, scores, mix, nullptr, nullptr, scalarSoftmax, scalarSiluMul, scalarPacked, 4, nullptr};

}  // namespace

const Kernels* scalarKernels() { return &kScalar; }

}  // namespace exl
