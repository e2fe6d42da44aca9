#include "packed.h"

#include "quantize.h"

#include <cmath>
#include <cstring>

namespace exl {

const char* makePackedLayout(int64_t n, int64_t k, int bits, int block, bool symmetric, PackedLayout* P,
                             PackedForm form) {
  const bool kquant = form == PackedForm::Q4K, k8 = form == PackedForm::K8;
  if (const char* e = makeLayout(k, n < 1 ? 1 : n, bits, block, RowOrder::Planar, &P->in)) return e;
  if (n < 1 || n > (1 << 26)) return "outputs must be between 1 and 67108864";
  if (kquant && (bits != 4 || block != 32 || k % 256 != 0)) return "Q4_K blocks need 4 bits, blockSize 32 and a multiple of 256 inputs";
  if (k8 && (bits != 8 || block != 32 || k % 256 != 0)) return "K8 blocks need 8 bits, blockSize 32 and a multiple of 256 inputs";
  P->n = n, P->k = k, P->bits = bits, P->block = block;
  P->kquant = kquant;
  P->k8 = k8;
  P->symmetric = bits == 4 && symmetric && !kquant;
  P->groups = (n + kPackRows - 1) / kPackRows;
  P->blockCodeBytes = (uint64_t)block * kPackRows * bits / 8;
  P->scalesOffset = P->blockCodeBytes * P->in.kb;
  P->zpOffset = P->scalesOffset + (uint64_t)P->in.kb * kPackRows * 2;
  if (kquant) {  // u8 sc and m per block, then fp16 d and dmin per superblock (packed.h)
    P->zpOffset = P->scalesOffset + (uint64_t)P->in.kb * kPackRows;
    P->superOffset = P->zpOffset + (uint64_t)P->in.kb * kPackRows;
    const uint64_t used = P->superOffset + (uint64_t)(P->in.kb / 8) * kPackRows * 2 * 2;
    P->groupBytes = (used + 63) & ~(uint64_t)63;
    return nullptr;
  }
  if (k8) {  // int8 sc per 16 inputs, u8 m per block, then fp16 d and dmin per superblock (packed.h)
    P->zpOffset = P->scalesOffset + (uint64_t)P->in.kb * 2 * kPackRows;
    P->superOffset = P->zpOffset + (uint64_t)P->in.kb * kPackRows;
    const uint64_t used = P->superOffset + (uint64_t)(P->in.kb / 8) * kPackRows * 2 * 2;
    P->groupBytes = (used + 63) & ~(uint64_t)63;
    return nullptr;
  }
  P->superOffset = 0;
  const uint64_t used = P->zpOffset + (bits == 4 && !P->symmetric ? (uint64_t)P->in.kb * kPackRows : 0);
  P->groupBytes = (used + 63) & ~(uint64_t)63;
  return nullptr;
}

namespace {
// Code q of element j of block b, row r (a step holds [16 rows][4 inputs]; int4 steps pair up).
void putCode(const PackedLayout& P, uint8_t* out, int b, int r, int j, int q) {
  uint8_t* codes = out + (uint64_t)b * P.blockCodeBytes;
  const int step = j / 4, byteInStep = r * 4 + (j & 3);
  if (P.bits == 8) {
    codes[step * 64 + byteInStep] = (uint8_t)q;
  } else {
    uint8_t& byte = codes[(step / 2) * 64 + byteInStep];
    byte = (uint8_t)(step % 2 == 0 ? (byte & 0xf0) | q : (byte & 0x0f) | (q << 4));
  }
}

// The code in [lo, hi] whose value (value(c)) has exactly v's bits: the nearest to `estimate`
// first, else (a zero scale, where every code gives a zero of some sign) each in turn. lo - 1
// when there is none (a value off the blocks, NaN or infinite).
template <typename Value>
int codeOf(float v, float estimate, int lo, int hi, Value value) {
  if (!std::isfinite(v)) return lo - 1;
  const auto same = [&](int c) {
    const float w = value(c);
    return std::memcmp(&w, &v, 4) == 0;
  };
  const float t = std::nearbyint(estimate);  // compared as a float: no out-of-range conversion
  if (t >= (float)lo && t <= (float)hi && same((int)t)) return (int)t;
  for (int c = lo; c <= hi; c++)
    if (same(c)) return c;
  return lo - 1;
}

// Row r's fp16 d and dmin of every superblock (both K forms store them alike, packed.h). False
// where one is not an fp16 value.
bool putSuperScales(const PackedLayout& P, uint8_t* out, int r, const float* d, const float* dmin) {
  const int ns = P.in.kb / 8;
  uint16_t* d16 = reinterpret_cast<uint16_t*>(out + P.superOffset);
  for (int s = 0; s < ns; s++) {
    if (halfToFloat(floatToHalf(d[s])) != d[s] || halfToFloat(floatToHalf(dmin[s])) != dmin[s]) return false;
    d16[s * kPackRows + r] = floatToHalf(d[s]);
    d16[(ns + s) * kPackRows + r] = floatToHalf(dmin[s]);
  }
  return true;
}

// A group of a file's Q4_K blocks: its sc, m, d and dmin stored as they are, and each value's
// code found from them. False where a value is not (d·sc)·q - dmin·m for a q in 0..15 (the
// values did not come from these blocks) or a d is not an fp16 value.
bool packKGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const KBlocks& kb) {
  const int nb = P.in.kb, ns = nb / 8;
  for (int r = 0; r < kPackRows; r++) {
    const int64_t row = g * kPackRows + r;
    if (row >= P.n) continue;  // padding rows: codes, scales and mins all zero
    if (!putSuperScales(P, out, r, kb.d + row * ns, kb.dmin + row * ns)) return false;
    for (int b = 0; b < nb; b++) {
      const uint8_t sc = kb.sc[row * nb + b], m = kb.m[row * nb + b];
      if (sc > 63 || m > 63) return false;
      out[P.scalesOffset + b * kPackRows + r] = sc;
      out[P.zpOffset + b * kPackRows + r] = m;
      const float S = packedKScale(P, out, b, r), M = packedKMin(P, out, b, r);
      const float* src = w + row * P.k + (int64_t)b * 32;
      for (int j = 0; j < 32; j++) {
        // Two roundings, as ggml's float code does them; the same bits, signed zeros included.
        const int q = codeOf(src[j], S == 0 ? 0.0f : (src[j] + M) / S, 0, 15,
                             [&](int c) { const float scaled = S * (float)c; return scaled - M; });
        if (q < 0) return false;
        putCode(P, out, b, r, j, q);
      }
    }
  }
  return true;
}

// A group of a file's K-quant blocks with 8-bit codes: sc, m, d and dmin stored as they are, and
// each value's code found from them. False where a value is not (d·sc)·c - dmin·m for a c in
// -128..127 or a d is not an fp16 value.
bool packK8Group(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const K8Blocks& kb) {
  const int nb = P.in.kb, ns = nb / 8;
  for (int r = 0; r < kPackRows; r++) {
    const int64_t row = g * kPackRows + r;
    if (row >= P.n) {  // padding rows: zero weights are code 128
      for (int b = 0; b < nb; b++)
        for (int j = 0; j < 32; j++) putCode(P, out, b, r, j, 128);
      continue;
    }
    if (!putSuperScales(P, out, r, kb.d + row * ns, kb.dmin + row * ns)) return false;
    for (int b = 0; b < nb; b++) {
      out[P.zpOffset + b * kPackRows + r] = kb.m[row * nb + b];
      const float M = packedKMin(P, out, b, r);
      for (int h = 0; h < 2; h++) {
        out[P.scalesOffset + (2 * b + h) * kPackRows + r] = static_cast<uint8_t>(kb.sc[row * nb * 2 + 2 * b + h]);
        const float S = packedK8Scale(P, out, b, h, r);
        const float* src = w + row * P.k + (int64_t)b * 32 + 16 * h;
        for (int j = 0; j < 16; j++) {
          const int c = codeOf(src[j], S == 0 ? 0.0f : (src[j] + M) / S, -128, 127,
                               [&](int q) { const float scaled = S * (float)q; return scaled - M; });
          if (c < -128) return false;
          putCode(P, out, b, r, 16 * h + j, c + 128);
        }
      }
    }
  }
  return true;
}
}  // namespace

bool packGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const BlockGrid& grid) {
  const int B = P.block, kb = P.in.kb;
  std::memset(out, 0, P.groupBytes);
  if (P.kquant) return grid.isK() && packKGroup(P, w, g, out, grid.kblocks);
  if (P.k8) return grid.isK8() && packK8Group(P, w, g, out, grid.k8blocks);
  uint16_t* scales = reinterpret_cast<uint16_t*>(out + P.scalesOffset);
  uint8_t* zps = out + P.zpOffset;
  for (int r = 0; r < kPackRows; r++) {
    const int64_t row = g * kPackRows + r;
    for (int b = 0; b < kb; b++) {
      const int64_t start = (int64_t)b * B;
      const int count = row >= P.n || start >= P.k ? 0 : (int)(P.k - start < B ? P.k - start : B);
      const float* src = w + row * P.k + start;
      float scale;
      int zp;
      int code[256];
      const float* gridScale = count > 0 ? grid.at(row, b) : nullptr;
      if (!quantizeBlock(src, count, B, P.bits, code, &scale, &zp, gridScale)) return false;
      scales[b * kPackRows + r] = floatToHalf(scale);  // quantizeBlock's scales are fp16 values
      if (P.bits == 4 && !P.symmetric) zps[b * kPackRows + r] = (uint8_t)zp;
      // A symmetric matrix's blocks all have zero point 8 (grid blocks) or scale 0 (padding).
      if (P.symmetric && zp != 8 && scale != 0) return false;
      for (int j = 0; j < B; j++) putCode(P, out, b, r, j, code[j]);
    }
  }
  return true;
}

}  // namespace exl
