#include "packed.h"

#include "ggml_blocks.h"
#include "quantize.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace exl {

const char* makePackedLayout(int64_t n, int64_t k, int bits, int block, bool symmetric, PackedLayout* P,
                             PackedForm form, bool kmins) {
  const bool kquant = form == PackedForm::Q4K, k6 = form == PackedForm::K6, mins = form == PackedForm::Mins;
  if (k6 && (bits != 6 || block != 32 || k % 256 != 0)) return "K6 blocks need 6 bits, blockSize 32 and a multiple of 256 inputs";
  if (mins && ((bits != 4 && bits != 5) || block != 32 || k % 32 != 0)) return "blocks with mins need 4 or 5 bits, blockSize 32 and a multiple of 32 inputs";
  if (form == PackedForm::Plain && bits == 5 && (!symmetric || block != 32)) return "5-bit codes need a kept Q5_0 grid (blockSize 32)";
  // The activations' side knows 4 or 8 bits only; its quantization does not depend on them.
  if (const char* e = makeLayout(k, n < 1 ? 1 : n, k6 || bits == 8 ? 8 : 4, block, RowOrder::Planar, &P->in)) return e;
  if (n < 1 || n > (1 << 26)) return "outputs must be between 1 and 67108864";
  if (kquant && ((bits != 4 && bits != 5) || block != 32 || k % 256 != 0)) return "Q4_K and Q5_K blocks need 4 or 5 bits, blockSize 32 and a multiple of 256 inputs";
  P->n = n, P->k = k, P->bits = bits, P->block = block;
  P->kquant = kquant;
  P->k6 = k6;
  P->kmins = kquant || (k6 && kmins);
  P->mins = mins;
  P->symmetric = (bits == 4 || bits == 5) && symmetric && !kquant && !mins;
  P->groups = (n + kPackRows - 1) / kPackRows;
  P->blockCodeBytes = (uint64_t)block * kPackRows * bits / 8;
  P->scalesOffset = P->blockCodeBytes * P->in.kb;
  P->zpOffset = P->scalesOffset + (uint64_t)P->in.kb * kPackRows * 2;
  P->superOffset = 0;
  uint64_t used = P->zpOffset + (mins ? (uint64_t)P->in.kb * kPackRows * 2 : bits == 4 && !P->symmetric ? (uint64_t)P->in.kb * kPackRows : 0);
  if (kquant || k6) {  // per block: 6-bit sc and m (Q4_K), or int8 sc per 16 and u8 m (K6); fp16 d and dmin per superblock (packed.h)
    const uint64_t scaleBytes = kquant ? sixBitBytes(P->in.kb) : (uint64_t)P->in.kb * kPackRows * 2;
    const uint64_t minBytes = kquant ? sixBitBytes(P->in.kb) : P->kmins ? (uint64_t)P->in.kb * kPackRows : 0;
    P->zpOffset = P->scalesOffset + scaleBytes;
    P->superOffset = P->zpOffset + minBytes;
    used = P->superOffset + (uint64_t)(P->in.kb / 8) * kPackRows * 2 * (P->kmins ? 2 : 1);
  }
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

// Row r's codes c[0..dp) into a group: int8 steps take 4 bytes of the row each, int4 steps pair
// up (low nibble, high nibble), K6 adds the top two bits of four steps per byte and Q5_K the
// fifth bits of a block's eight steps (packed.h).
void putRowCodes(const PackedLayout& P, uint8_t* out, int r, const uint8_t* c) {
  const int kb = P.in.kb;
  for (int b = 0; b < kb; b++, c += 32) {
    uint8_t* codes = out + (uint64_t)b * P.blockCodeBytes + r * 4;
    if (P.bits == 8) {
      for (int s = 0; s < 8; s++) std::memcpy(codes + s * 64, c + 4 * s, 4);
      continue;
    }
    for (int t = 0; t < 4; t++)
      for (int i = 0; i < 4; i++) codes[t * 64 + i] = (uint8_t)((c[8 * t + i] & 15) | (c[8 * t + 4 + i] & 15) << 4);
    if (P.bits == 5)
      for (int i = 0; i < 4; i++) {
        int fifth = 0;
        for (int s = 0; s < 8; s++) fifth |= (c[4 * s + i] >> 4 & 1) << s;
        codes[256 + i] = (uint8_t)fifth;
      }
    if (P.k6)
      for (int u = 0; u < 2; u++)
        for (int i = 0; i < 4; i++) {
          int top = 0;
          for (int t = 0; t < 4; t++) top |= (c[16 * u + 4 * t + i] >> 4) << (2 * t);
          codes[256 + u * 64 + i] = (uint8_t)top;
        }
  }
}

// A group laid out from the file's own blocks (ggml_blocks.h): every code, scale and min is the
// file's, moved, never computed from a float. False where a part's type does not fit the form
// (the caller's mistake) or a superblock's d is not finite.
bool packSourceGroup(const PackedLayout& P, int64_t g, uint8_t* out, const SourceRows& src) {
  const int kb = P.in.kb, ns = kb / 8;
  const int64_t k = P.k;
  std::vector<int16_t> q((size_t)P.in.dp);
  std::vector<uint8_t> c((size_t)P.in.dp);
  uint16_t* scales = reinterpret_cast<uint16_t*>(out + P.scalesOffset);
  uint16_t* d16 = reinterpret_cast<uint16_t*>(out + P.superOffset);
  for (int r = 0; r < kPackRows; r++) {
    const int64_t row = g * kPackRows + r;
    int type = -1;
    const uint8_t* bytes = row < P.n ? src.row(row, k, &type) : nullptr;
    if (!bytes) {  // padding rows: zero weights (int8 code 128; K6 code 32)
      std::memset(c.data(), P.bits == 8 ? 128 : P.k6 ? 32 : 0, c.size());
      putRowCodes(P, out, r, c.data());
      continue;
    }
    ggmlRowInts(type, bytes, k, q.data());
    if (P.kquant || P.k6) {
      if (P.kquant ? type != (P.bits == 5 ? kQ5_K : kQ4_K) : !isKType(type)) return false;
      // Q6_K's q is its code (c - 32 stored + 32), Q4_K's and Q5_K's in their own forms too; in
      // K6, Q4_K's and Q5_K's go 32 up (value S·(code - 32) - M).
      const int shift = P.kquant || type == kQ6_K ? 0 : 32;
      for (int64_t j = 0; j < k; j++) c[j] = (uint8_t)(q[j] + shift);
      for (int s = 0; s < ns; s++) {
        const KSuper ks = ggmlSuper(type, bytes, s);
        if ((ks.d & 0x7c00) == 0x7c00 || (ks.dmin & 0x7c00) == 0x7c00) return false;  // NaN or infinite
        if (!P.kmins && ks.dmin != 0) return false;
        d16[s * kPackRows + r] = ks.d;
        if (P.kmins) d16[(ns + s) * kPackRows + r] = ks.dmin;
        for (int b = 8 * s; b < 8 * s + 8; b++) {
          const int i = 2 * (b - 8 * s);
          if (P.kquant) {
            putSix(out + P.scalesOffset, kb, b, r, ks.sc[i]);
            putSix(out + P.zpOffset, kb, b, r, ks.m[i]);
            continue;
          }
          out[P.scalesOffset + (2 * b) * kPackRows + r] = (uint8_t)ks.sc[i];
          out[P.scalesOffset + (2 * b + 1) * kPackRows + r] = (uint8_t)ks.sc[i + 1];
          if (P.kmins) out[P.zpOffset + b * kPackRows + r] = ks.m[i];
        }
      }
    } else {
      if (P.mins ? !hasBlockMin(type) || (type == kQ4_1) != (P.bits == 4)
                 : type != kQ4_0 && type != kQ5_0 && type != kQ8_0)
        return false;
      if (!P.mins && P.bits != 8 && (type != (P.bits == 4 ? kQ4_0 : kQ5_0) || !P.symmetric)) return false;
      // Codes n + zp for the file's n (Q4_0 q - 8, Q5_0 q - 16, Q8_0, Q4_1 and Q5_1 q); zp 8
      // (int4), 16 (5 bits), 0 (with mins) or 128 (int8).
      const int n0 = type == kQ4_0 ? -8 : type == kQ5_0 ? -16 : 0;
      const int zp = sharedZeroPoint(P);  // every non-mins form here is symmetric (checked above)
      for (int64_t j = 0; j < k; j++) c[j] = (uint8_t)(q[j] + n0 + zp);
      for (int64_t j = k; j < P.in.dp; j++) c[j] = P.bits == 8 ? 128 : 0;
      uint16_t* mins = reinterpret_cast<uint16_t*>(out + P.zpOffset);
      for (int b = 0; b < kb; b++) {
        if (b * 32 >= k) break;  // padding blocks: scale 0 (and min 0)
        const uint16_t h = ggmlBlockScale(type, bytes, b), m = P.mins ? ggmlBlockMin(type, bytes, b) : 0;
        if ((h & 0x7c00) == 0x7c00 || (m & 0x7c00) == 0x7c00) return false;
        scales[b * kPackRows + r] = h;
        if (P.mins) mins[b * kPackRows + r] = m;
      }
    }
    putRowCodes(P, out, r, c.data());
  }
  return true;
}
}  // namespace

bool packGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const BlockGrid& grid) {
  const int B = P.block, kb = P.in.kb;
  std::memset(out, 0, P.groupBytes);
  if (grid.source.n > 0) return P.block == 32 && packSourceGroup(P, g, out, grid.source);
  if (P.kquant || P.k6 || P.mins) return false;  // these forms come only from the file's blocks
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
