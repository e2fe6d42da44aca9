// Weights packed for batched matrix-vector products at any width: groups of kPackRows output rows;
// within a group, each block of `block` inputs is stored as block/4 steps of [16 rows][4 inputs]
// codes, so one 64-byte load feeds one vpdpbusd (or two AVX2 / four NEON multiply-adds) that
// advances 16 outputs by 4 inputs each: no per-output horizontal sum, and the weights of a step are
// shared by every activation row of the call. After the codes: the group's fp16 block scales
// [blocks][16] and, for asymmetric int4, its zero points [blocks][16]: a block of 32 then costs
// what a GGUF Q8_0 or Q4_0 block costs (34 or 18 bytes), so equal bits read equal bytes.
//   int8: code = w/scale + 128 (0..255), w = (code - 128) · scale
//   int4: code 0..15, w = (code - zp) · scale, zp 8 when symmetric (a file's Q4_0 grid);
//         steps 2t and 2t+1 share 64 bytes (low / high nibble)
//   5-bit (a file's Q5_0 grid, zp 16, no zero points stored; or Q5_1 in the mins form): codes
//         0..31 as Q5_K's below, low nibbles as int4's and a plane of fifth bits per block.
//         22 (Q5_0) or 24 (Q5_1) bytes per block of 32: the file's own.
//   mins (a file's Q4_1 blocks kept in int4 codes q, Q5_1 in 5-bit codes q): fp16 min
//         [blocks][16] where the zero points would be; w = code·scale + min, ggml's d·q + m. A
//         Q4_1 block so costs its file's 20 bytes.
//   Q4_K (int4 codes as above, a file's Q4_K blocks kept): after the codes, the 6-bit sc of
//         every block and row (packedSix below: low nibbles of two blocks per byte, then the
//         top two bits of four blocks per byte), the 6-bit m the same way, then fp16 d
//         [blocks/8][16] and fp16 dmin [blocks/8][16]; w = (d·sc)·code - dmin·m, ggml's own
//         formula. 18 bytes per block of 32: the file's own.
//   Q5_K (`bits` 5, a file's Q5_K blocks kept): Q4_K's form with 5-bit codes: each block's low
//         nibbles as int4 codes are stored (256 bytes), then their fifth bits (64 bytes: byte i
//         holds steps 0..7 at bits 0..7, in the byte an int8 step would use). 22 bytes per
//         block of 32: the file's own.
//   K6 (6-bit codes c + 32, c in -32..31, a file's K-quant blocks kept: Q6_K, stacks of K
//         types, and Q5_K in packages from before its own form; ggml_blocks.h): a block's codes
//         are their low nibbles as int4 codes are stored (256 bytes), then their top two bits
//         (128 bytes: byte i of 64-byte line t holds steps 4t..4t+3 at bits 0-1, 2-3, 4-5,
//         6-7, in the byte an int8 step would use). After
//         the codes, int8 sc [blocks·2][16] (one per 16 inputs), then, only where a row has a
//         min (`kmins`: Q4_K or Q5_K rows), u8 m [blocks][16]; then fp16 d [blocks/8][16] and,
//         with mins, fp16 dmin [blocks/8][16]. w = (d·sc)·c - dmin·m. A Q6_K matrix so costs
//         26.25 bytes per block of 32, its file's own size. Its activations carry Σq of each
//         block's first half (XQuant::xsumLo).
#pragma once
#include <cstdint>

#include "layout.h"
#include "quantize.h"

namespace exl {

constexpr int kPackRows = 16;

struct PackedLayout {
  int64_t n, k;
  int32_t bits, block;
  bool symmetric;  // int4 and 5-bit only: every zero point is 8 (16 at 5 bits), none stored
  bool kquant;     // Q4_K or Q5_K blocks (bits 4 or 5, block 32, k a multiple of 256)
  bool k6;         // K6 blocks (6-bit codes, block 32, k a multiple of 256)
  bool kmins;      // K6: mins stored (its blocks have them: Q4_K or Q5_K parts)
  bool mins;       // the mins form: an fp16 min per block (Q4_1, Q5_1)
  Layout in;  // the input side: padded length and blocks, for quantizing activations
  int64_t groups;
  uint64_t blockCodeBytes;  // codes of one block of one group
  uint64_t scalesOffset, zpOffset, groupBytes;
  uint64_t superOffset;  // K forms: the fp16 d of superblock s at [s][16]; dmin after all of them
};

// Fills P; returns nullptr or what is unsupported.
// K6 takes bits 6; `kmins` says whether it stores mins. Mins takes bits 4 or 5, block 32.
// Q4K takes bits 4 (Q4_K's codes) or 5 (Q5_K's). Plain takes 5 bits only when symmetric (Q5_0).
enum class PackedForm { Plain, Q4K, K6, Mins };
const char* makePackedLayout(int64_t n, int64_t k, int bits, int block, bool symmetric, PackedLayout* P,
                             PackedForm form = PackedForm::Plain, bool kmins = true);

// Block b's scale and zero point of row r in a group.
inline float packedScale(const PackedLayout& P, const uint8_t* group, int b, int r) {
  return halfToFloat(reinterpret_cast<const uint16_t*>(group + P.scalesOffset)[b * kPackRows + r]);
}
// The zero point every block of a plain or mins matrix shares, or -1 where each block stores its
// own (asymmetric int4).
inline int sharedZeroPoint(const PackedLayout& P) {
  return P.bits == 8 ? 128 : P.mins ? 0 : P.symmetric ? (P.bits == 5 ? 16 : 8) : -1;
}
inline int packedZeroPoint(const PackedLayout& P, const uint8_t* group, int b, int r) {
  const int shared = sharedZeroPoint(P);
  return shared >= 0 ? shared : group[P.zpOffset + b * kPackRows + r];
}
// The mins form: block b's min of row r (0 in every other plain form).
inline float packedMin(const PackedLayout& P, const uint8_t* group, int b, int r) {
  return P.mins ? halfToFloat(reinterpret_cast<const uint16_t*>(group + P.zpOffset)[b * kPackRows + r]) : 0.0f;
}
// Q4_K's 6-bit sc and m: `kb` blocks x 16 rows of 6-bit values in kb·12 bytes from `base`. The
// low nibbles of blocks 2i and 2i+1 share byte [i][r] (low, high), then the top two bits of
// blocks 4i..4i+3 share byte [i][r] (bits 0-1, 2-3, 4-5, 6-7): 16 consecutive bytes hold one
// nibble or bit pair of 16 rows, so the kernels decode a block's 16 values with two loads.
inline uint64_t sixBitBytes(int kb) { return (uint64_t)kb * kPackRows * 3 / 4; }
inline int packedSix(const uint8_t* base, int kb, int b, int r) {
  const int low = base[(b / 2) * kPackRows + r] >> (4 * (b % 2)) & 15;
  const int top = base[(uint64_t)kb * kPackRows / 2 + (b / 4) * kPackRows + r] >> (2 * (b % 4)) & 3;
  return low | top << 4;
}
// Sets value v (0..63) in a zeroed `base`.
inline void putSix(uint8_t* base, int kb, int b, int r, int v) {
  base[(b / 2) * kPackRows + r] |= (uint8_t)((v & 15) << (4 * (b % 2)));
  base[(uint64_t)kb * kPackRows / 2 + (b / 4) * kPackRows + r] |= (uint8_t)((v >> 4 & 3) << (2 * (b % 4)));
}

// Q4_K: block b's scale d·sc and min dmin·m of row r, in float as ggml computes them (exact:
// an fp16 times a 6-bit integer).
inline float packedKScale(const PackedLayout& P, const uint8_t* group, int b, int r) {
  const uint16_t* d = reinterpret_cast<const uint16_t*>(group + P.superOffset);
  return halfToFloat(d[(b / 8) * kPackRows + r]) * (float)packedSix(group + P.scalesOffset, P.in.kb, b, r);
}
// K6: the scale d·sc of inputs [16h, 16h+16) of block b, row r (its min: packedKMin).
inline float packedK6Scale(const PackedLayout& P, const uint8_t* group, int b, int h, int r) {
  const uint16_t* d = reinterpret_cast<const uint16_t*>(group + P.superOffset);
  const int8_t sc = static_cast<int8_t>(group[P.scalesOffset + (2 * b + h) * kPackRows + r]);
  return halfToFloat(d[(b / 8) * kPackRows + r]) * (float)sc;
}
inline float packedKMin(const PackedLayout& P, const uint8_t* group, int b, int r) {
  if (P.k6 && !P.kmins) return 0.0f;
  const uint16_t* dmin = reinterpret_cast<const uint16_t*>(group + P.superOffset) + (P.in.kb / 8) * kPackRows;
  const int m = P.kquant ? packedSix(group + P.zpOffset, P.in.kb, b, r) : group[P.zpOffset + b * kPackRows + r];
  return halfToFloat(dmin[(b / 8) * kPackRows + r]) * (float)m;
}

// 5-bit codes (Q5_K, Q5_0, Q5_1): code (0..31) of element j of block b, row r.
inline int packedQ5Code(const PackedLayout& P, const uint8_t* group, int b, int r, int j) {
  const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
  const int step = j / 4, byteInStep = r * 4 + (j & 3);
  const int low = (codes[(step / 2) * 64 + byteInStep] >> (step % 2 ? 4 : 0)) & 15;
  return low | ((codes[256 + byteInStep] >> step) & 1) << 4;
}
// K6: code (0..63) of element j of block b, row r.
inline int packedK6Code(const PackedLayout& P, const uint8_t* group, int b, int r, int j) {
  const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
  const int step = j / 4, byteInStep = r * 4 + (j & 3);
  const int low = (codes[(step / 2) * 64 + byteInStep] >> (step % 2 ? 4 : 0)) & 15;
  const int top = (codes[256 + (step / 4) * 64 + byteInStep] >> (2 * (step % 4))) & 3;
  return low | top << 4;
}

// Packs rows [16g, 16g+16) of W ([n, k] row-major; rows past n are zero), or with grid.source
// the file's blocks of those rows (W unread). False on a non-finite value or a scale beyond the
// fp16 range, a value off `grid` (quantize.h) where one is given, or blocks that do not fit.
bool packGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const BlockGrid& grid = {});

}  // namespace exl
