// Portable kernels: the reference for the SIMD paths and the fallback on CPUs without them.
#include "layout.h"

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

const Kernels kScalar = {"scalar", dot, axpy};

}  // namespace

const Kernels* scalarKernels() { return &kScalar; }

}  // namespace exl
