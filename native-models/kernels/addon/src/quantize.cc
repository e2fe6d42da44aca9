#include "quantize.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace exl {

const char* makeLayout(int64_t d, int64_t ffn, int64_t bits, int64_t block, RowOrder order, Layout* L) {
  if (bits != 4 && bits != 8) return "bits must be 4 or 8";
  if (block != 32 && block != 64 && block != 128 && block != 256) return "blockSize must be 32, 64, 128 or 256";
  // Bounds keep every row offset and per-row count inside 32 bits and the buffer plausible.
  if (d < 1 || d > (1 << 20)) return "d must be between 1 and 1048576";
  if (ffn < 1 || ffn > (1 << 22)) return "ffn must be between 1 and 4194304";
  const int64_t unit = block > 64 ? block : 64;
  const int64_t dp = (d + unit - 1) / unit * unit;
  L->d = (int32_t)d;
  L->ffn = (int32_t)ffn;
  L->bits = (int32_t)bits;
  L->block = (int32_t)block;
  L->dp = (int32_t)dp;
  L->kb = (int32_t)(dp / block);
  L->blockShift = block == 32 ? 5 : block == 64 ? 6 : block == 128 ? 7 : 8;
  L->scalesOffset = (uint32_t)(dp * bits / 8);
  L->zpOffset = L->scalesOffset + 2u * (uint32_t)L->kb;
  const uint32_t used = L->zpOffset + (bits == 4 ? (uint32_t)L->kb : 0u);
  L->rowBytes = (used + 63u) & ~63u;
  L->order = order;
  L->totalBytes = (uint64_t)3 * (uint64_t)ffn * L->rowBytes;
  return nullptr;
}

namespace {
bool quantizeOnGrid(const float* v, int count, int block, int bits, float s, int* codes, float* scale, int* zp) {
  // The stored scale is fp16 in per-neuron rows: a grid scale must survive that (GGUF's are fp16).
  if (!std::isfinite(s) || halfToFloat(floatToHalf(s)) != s) return false;
  const int z = bits == 8 ? 128 : 8, top = bits == 8 ? 255 : 15;
  for (int j = 0; j < block; j++) {
    int q = z;
    if (j < count) {
      if (s == 0) {
        if (v[j] != 0) return false;
      } else {
        const float n = std::nearbyint(v[j] / s);
        if (!(n * s == v[j]) || n + z < 0 || n + z > top) return false;
        q = (int)n + z;
      }
    }
    codes[j] = q;
  }
  *scale = s;
  *zp = z;
  return true;
}
}  // namespace

bool quantizeBlock(const float* v, int count, int block, int bits, int* codes, float* scale, int* zp,
                   const float* gridScale) {
  if (gridScale) return block == 32 && quantizeOnGrid(v, count, block, bits, *gridScale, codes, scale, zp);
  float lo = 0, hi = 0;
  for (int j = 0; j < count; j++) {
    if (!std::isfinite(v[j])) return false;
    lo = v[j] < lo ? v[j] : lo;
    hi = v[j] > hi ? v[j] : hi;
  }
  if (bits == 8) {
    const float amax = -lo > hi ? -lo : hi;
    *scale = halfToFloat(floatToHalf(amax / 127.0f));
    *zp = 128;
  } else {
    *scale = halfToFloat(floatToHalf((hi - lo) / 15.0f));
    const int z = *scale > 0 ? (int)std::nearbyint(-lo / *scale) : 0;
    *zp = z < 0 ? 0 : z > 15 ? 15 : z;
  }
  if (!std::isfinite(*scale)) return false;
  const int qmin = bits == 8 ? 1 : 0, qmax = bits == 8 ? 255 : 15;
  for (int j = 0; j < block; j++) {
    int q = *zp;
    if (*scale > 0 && j < count) {
      q = (int)std::nearbyint(v[j] / *scale) + *zp;
      q = q < qmin ? qmin : q > qmax ? qmax : q;
    }
    codes[j] = q;
  }
  return true;
}

bool quantizeRow(const Layout& L, const float* src, int64_t stride, uint8_t* row, const float* grid) {
  const int B = L.block;
  uint16_t* scales = reinterpret_cast<uint16_t*>(row + L.scalesOffset);
  uint8_t* zps = row + L.zpOffset;
  float v[256];
  int code[256];
  for (int b = 0; b < L.kb; b++) {
    const int start = b * B;
    const int count = start >= L.d ? 0 : (L.d - start < B ? L.d - start : B);
    for (int j = 0; j < B; j++) v[j] = j < count ? src[(int64_t)(start + j) * stride] : 0.0f;
    float scale;
    int zp;
    const float* gridScale = grid && count > 0 ? grid + b : nullptr;
    if (!quantizeBlock(v, count, B, L.bits, code, &scale, &zp, gridScale)) return false;
    scales[b] = floatToHalf(scale);
    if (L.bits == 8) {
      for (int j = 0; j < B; j++) row[start + j] = (uint8_t)code[j];
    } else {
      zps[b] = (uint8_t)zp;
      for (int j = 0; j < B; j++) {
        const int e = start + j, g = e & ~63, k = e & 63;
        uint8_t& byte = row[(g >> 1) + (k & 31)];
        byte = (uint8_t)(k < 32 ? (byte & 0xf0) | code[j] : (byte & 0x0f) | (code[j] << 4));
      }
    }
  }
  return true;
}

namespace {
// Round to nearest, ties to even, as nearbyint does in the default rounding mode, without its
// libm call (at the baseline target nearbyintf is a call per element, which made quantizing a
// decode row cost nearly as much as multiplying it). Exact for |v| < 2^22; here |v| <= 127.
inline float roundEven(float v) {
  const float shift = 12582912.0f;  // 1.5 * 2^23
  return (v + shift) - shift;
}
}  // namespace

namespace {
// max |x[0..n)| on the bit patterns: for non-negative floats their order is that of the integers,
// and infinity and NaN lie above every finite value (an integer max vectorizes; a float max, with
// its NaN rules, does not). False on a NaN or infinity.
inline bool absMax(const float* x, int n, float* amax) {
  uint32_t top = 0;
  for (int j = 0; j < n; j++) {
    uint32_t u;
    std::memcpy(&u, x + j, 4);
    u &= 0x7fffffffu;
    top = u > top ? u : top;
  }
  std::memcpy(amax, &top, 4);
  return top < 0x7f800000u;
}

// Q8_K (ggml's quantize_row_q8_K_ref): codes round(x·127/amax) over each group of L.xGroup inputs,
// the scale 1/(127/amax) kept in float; its sign convention (codes negated when the largest |x|
// is positive) changes neither products nor sums.
bool quantizeGroups(const Layout& L, const float* x, XQuant& out) {
  const int B = L.block, G = L.xGroup;
  for (int g0 = 0; g0 < L.dp; g0 += G) {
    const int count = g0 >= L.d ? 0 : (L.d - g0 < G ? L.d - g0 : G);
    float amax;
    if (!absMax(x + g0, count, &amax)) return false;
    const float id = amax > 0 ? 127.0f / amax : 0.0f, sx = amax > 0 ? 1.0f / id : 0.0f;
    for (int start = g0; start < g0 + G && start < L.dp; start += B) {
      int sum = 0, lo = 0;
      for (int j = start; j < start + B; j++) {
        int v = j < L.d ? (int)roundEven(x[j] * id) : 0;
        v = v < -127 ? -127 : v > 127 ? 127 : v;
        out.q[j] = (int8_t)v;
        sum += v;
        if (j - start == 15) lo = sum;
      }
      setBlockSums(out, start / B, start, B, sx, sum);
      if (out.xsumLo) out.xsumLo[start / B] = lo;
    }
  }
  return true;
}
}  // namespace

bool quantizeActivation(const Layout& L, const float* x, XQuant& out) {
  if (L.xGroup > L.block) return quantizeGroups(L, x, out);
  // Written so that the compiler vectorizes both loops at the baseline target: this runs for every
  // decode row of every matrix, and as scalar code it cost about as much as the multiply itself.
  const int B = L.block;
  for (int b = 0; b < L.kb; b++) {
    const int start = b * B;
    const int count = start >= L.d ? 0 : (L.d - start < B ? L.d - start : B);
    const float* xb = x + start;
    float amax;
    if (!absMax(xb, count, &amax)) return false;  // NaN or infinity
    const float id = amax > 0 ? 127.0f / amax : 0.0f;
    int8_t* q = out.q + start;
    int sum = 0;
    for (int j = 0; j < count; j++) {
      int v = (int)roundEven(xb[j] * id);
      v = v < -127 ? -127 : v > 127 ? 127 : v;
      q[j] = (int8_t)v;
      sum += v;
    }
    for (int j = count; j < B; j++) q[j] = 0;
    setBlockStats(out, b, start, B, amax, sum);
  }
  return true;
}

}  // namespace exl
