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
#pragma once
#include <cstdint>

#include "layout.h"
#include "quantize.h"

namespace exl {

constexpr int kPackRows = 16;

struct PackedLayout {
  int64_t n, k;
  int32_t bits, block;
  bool symmetric;  // int4 only: every zero point is 8, none stored
  Layout in;  // the input side: padded length and blocks, for quantizing activations
  int64_t groups;
  uint64_t blockCodeBytes;  // codes of one block of one group
  uint64_t scalesOffset, zpOffset, groupBytes;
};

// Fills P; returns nullptr or what is unsupported.
const char* makePackedLayout(int64_t n, int64_t k, int bits, int block, bool symmetric, PackedLayout* P);

// Block b's scale and zero point of row r in a group.
inline float packedScale(const PackedLayout& P, const uint8_t* group, int b, int r) {
  return halfToFloat(reinterpret_cast<const uint16_t*>(group + P.scalesOffset)[b * kPackRows + r]);
}
inline int packedZeroPoint(const PackedLayout& P, const uint8_t* group, int b, int r) {
  return P.bits == 8 ? 128 : P.symmetric ? 8 : group[P.zpOffset + b * kPackRows + r];
}

// Packs rows [16g, 16g+16) of W ([n, k] row-major; rows past n are zero). False on a non-finite
// value or a scale beyond the fp16 range, or a value off `grid` (quantize.h) where one is given.
bool packGroup(const PackedLayout& P, const float* w, int64_t g, uint8_t* out, const BlockGrid& grid = {});

}  // namespace exl
