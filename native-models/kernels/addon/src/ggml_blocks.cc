#include "ggml_blocks.h"

#include <cstring>

namespace exl {

int ggmlTypeOf(const char* name) {
  static const struct {
    const char* name;
    int type;
  } kTypes[] = {{"Q4_0", kQ4_0}, {"Q4_1", kQ4_1}, {"Q5_0", kQ5_0}, {"Q5_1", kQ5_1}, {"Q8_0", kQ8_0}, {"Q4_K", kQ4_K}, {"Q5_K", kQ5_K}, {"Q6_K", kQ6_K}};
  for (const auto& t : kTypes)
    if (std::strcmp(t.name, name) == 0) return t.type;
  return -1;
}

int64_t ggmlRowBytes(int type, int64_t k) {
  switch (type) {
    case kQ4_0: return k / 32 * 18;
    case kQ4_1: return k / 32 * 20;
    case kQ5_0: return k / 32 * 22;
    case kQ5_1: return k / 32 * 24;
    case kQ8_0: return k / 32 * 34;
    case kQ4_K: return k / 256 * 144;
    case kQ5_K: return k / 256 * 176;
    case kQ6_K: return k / 256 * 210;
    default: return 0;
  }
}

bool isKType(int type) { return type == kQ4_K || type == kQ5_K || type == kQ6_K; }

void ggmlRowInts(int type, const uint8_t* row, int64_t k, int16_t* q) {
  switch (type) {
    case kQ4_0:
    case kQ4_1: {
      const int size = type == kQ4_0 ? 18 : 20, at = size - 16;  // the nibbles follow d (and m)
      for (int64_t b = 0; b < k / 32; b++, row += size, q += 32)
        for (int j = 0; j < 16; j++) q[j] = row[at + j] & 15, q[j + 16] = row[at + j] >> 4;
      return;
    }
    case kQ5_0:
    case kQ5_1: {
      const int size = type == kQ5_0 ? 22 : 24, at = size - 20;  // qh, then the nibbles
      for (int64_t b = 0; b < k / 32; b++, row += size, q += 32) {
        uint32_t qh;
        std::memcpy(&qh, row + at, 4);
        for (int j = 0; j < 16; j++) {
          q[j] = (int16_t)((row[at + 4 + j] & 15) | ((qh >> j) & 1) << 4);
          q[j + 16] = (int16_t)((row[at + 4 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
        }
      }
      return;
    }
    case kQ8_0:
      for (int64_t b = 0; b < k / 32; b++, row += 34, q += 32)
        for (int j = 0; j < 32; j++) q[j] = (int8_t)row[2 + j];
      return;
    case kQ4_K:
    case kQ5_K: {
      const int size = type == kQ4_K ? 144 : 176;
      for (int64_t s = 0; s < k / 256; s++, row += size) {
        const uint8_t* qh = row + 16;  // Q5_K only
        const uint8_t* qs = row + (type == kQ4_K ? 16 : 48);
        for (int c = 0; c < 4; c++, qs += 32, q += 64)
          for (int l = 0; l < 32; l++) {
            int lo = qs[l] & 15, hi = qs[l] >> 4;
            if (type == kQ5_K) lo |= ((qh[l] >> (2 * c)) & 1) << 4, hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
            q[l] = (int16_t)lo, q[l + 32] = (int16_t)hi;
          }
      }
      return;
    }
    case kQ6_K:
      for (int64_t s = 0; s < k / 256; s++, row += 210)
        for (int n = 0; n < 2; n++, q += 128) {
          const uint8_t* ql = row + 64 * n;
          const uint8_t* qh = row + 128 + 32 * n;
          for (int l = 0; l < 32; l++) {
            q[l] = (int16_t)((ql[l] & 15) | (qh[l] & 3) << 4);
            q[l + 32] = (int16_t)((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4);
            q[l + 64] = (int16_t)((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
            q[l + 96] = (int16_t)((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4);
          }
        }
      return;
    default:
      return;
  }
}

KSuper ggmlSuper(int type, const uint8_t* row, int64_t s) {
  KSuper out{};
  if (type == kQ6_K) {
    const uint8_t* p = row + s * 210;
    out.d = (uint16_t)(p[208] | p[209] << 8);
    for (int i = 0; i < 16; i++) out.sc[i] = (int8_t)p[192 + i];
    return out;
  }
  const uint8_t* p = row + s * (type == kQ4_K ? 144 : 176);
  out.d = (uint16_t)(p[0] | p[1] << 8);
  out.dmin = (uint16_t)(p[2] | p[3] << 8);
  const uint8_t* sm = p + 4;
  for (int j = 0; j < 8; j++) {  // ggml's get_scale_min_k4
    uint8_t sc, m;
    if (j < 4) {
      sc = sm[j] & 63, m = sm[j + 4] & 63;
    } else {
      sc = (uint8_t)((sm[j + 4] & 15) | ((sm[j - 4] >> 6) << 4));
      m = (uint8_t)((sm[j + 4] >> 4) | ((sm[j] >> 6) << 4));
    }
    out.sc[2 * j] = out.sc[2 * j + 1] = (int8_t)sc;
    out.m[2 * j] = out.m[2 * j + 1] = m;
  }
  return out;
}

}  // namespace exl
