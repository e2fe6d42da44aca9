#include "packed.h"

#include "quantize.h"

#include <cmath>
#include <cstring>

namespace exl {

const char* makePackedLayout(int64_t n, int64_t k, int bits, int block, bool symmetric, PackedLayout* P) {
  if (const char* e = makeLayout(k, n < 1 ? 1 : n, bits, block, RowOrder::Planar, &P->in)) return e;
  if (n < 1 || n > (1 << 26)) return "outputs must be between 1 and 67108864";
  P->n = n, P->k = k, P->bits = bits, P->block = block;
  P->symmetric = bits == 4 && symmetric;
  P->groups = (n + kPackRows - 1) / kPackRows;
  P->blockCodeBytes = (uint64_t)block * kPackRows * bits / 8;
  P->scalesOffset = P->blockCodeBytes * P->in.kb;
  P->zpOffset = P->scalesOffset + (uint64_t)P->in.kb * kPackRows * 2;
  const uint64_t used = P->zpOffset + (bits == 4 && !P->symmetric ? (uint64_t)P->in.kb * kPackRows : 0);
  P->groupBytes = (used + 63) & ~(uint64_t)63;
  return nullptr;
}

bool packGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const BlockGrid& grid) {
  const int B = P.block, kb = P.in.kb;
  std::memset(out, 0, P.groupBytes);
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
      uint8_t* codes = out + (uint64_t)b * P.blockCodeBytes;
      for (int j = 0; j < B; j++) {
        const int q = code[j];
        const int step = j / 4, byteInStep = r * 4 + (j & 3);
        if (P.bits == 8) {
          codes[step * 64 + byteInStep] = (uint8_t)q;
        } else {
          uint8_t& byte = codes[(step / 2) * 64 + byteInStep];
          byte = (uint8_t)(step % 2 == 0 ? (byte & 0xf0) | q : (byte & 0x0f) | (q << 4));
        }
      }
    }
  }
  return true;
}

}  // namespace exl
