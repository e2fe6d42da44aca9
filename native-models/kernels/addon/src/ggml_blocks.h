// A file's own blocks as the source of a packed matrix: the GGUF tensor's bytes, row after row,
// laid out by the packers straight into the kernels' forms (packed.h) without a float in between,
// so importing a quantized file costs about what copying it costs, and every weight is the file's.
// The integers and scales are read as ggml's block structs define them (ggml-common.h):
//   Q4_0: fp16 d, 16 bytes of nibbles (element j < 16 low, j + 16 high); value d·(q - 8)
//   Q4_1: fp16 d, fp16 m, Q4_0's nibbles; value d·q + m
//   Q5_0: fp16 d, 32 bits of fifth bits, 16 bytes of nibbles; value d·(q - 16)
//   Q5_1: fp16 d, fp16 m, then Q5_0's fifth bits and nibbles; value d·q + m
//   Q8_0: fp16 d, 32 int8; value d·q
//   Q4_K (256 inputs): fp16 d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles
//         (64 inputs per 32 bytes: low nibbles first); value (d·sc)·q - dmin·m per 32
//   Q5_K: Q4_K's header, 32 bytes of fifth bits, then Q4_K's nibbles
//   Q6_K: 128 bytes of low nibbles, 64 of top bit pairs, 16 int8 scales (one per 16), fp16 d;
//         value (d·sc)·(q - 32)
#pragma once
#include <cstdint>

namespace exl {

// ggml's type numbers (ggml.h enum ggml_type).
enum GgmlType : int32_t { kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14 };

// The type number for a name ("Q4_K"), or -1.
int ggmlTypeOf(const char* name);
// Bytes of one row of k inputs (k a multiple of the type's block), or 0 for an unknown type.
int64_t ggmlRowBytes(int type, int64_t k);
bool isKType(int type);
// The 32-input types with a min per block (value d·q + m): Q4_1, Q5_1.
inline bool hasBlockMin(int type) { return type == kQ4_1 || type == kQ5_1; }

// Rows of one matrix from up to four tensors stacked in order (q, k, v of a fused qkv).
struct SourcePart {
  int32_t type = -1;
  const uint8_t* bytes = nullptr;
  int64_t rows = 0;
};
struct SourceRows {
  static constexpr int kMaxParts = 4;
  SourcePart parts[kMaxParts];
  int n = 0;
  // Row r's bytes (k inputs) and type; nullptr past the last row.
  const uint8_t* row(int64_t r, int64_t k, int* type) const {
    for (int i = 0; i < n; i++) {
      if (r < parts[i].rows) {
        *type = parts[i].type;
        return parts[i].bytes + r * ggmlRowBytes(parts[i].type, k);
      }
      r -= parts[i].rows;
    }
    return nullptr;
  }
  int64_t rows() const {
    int64_t t = 0;
    for (int i = 0; i < n; i++) t += parts[i].rows;
    return t;
  }
  bool allOf(bool (*pred)(int)) const {
    for (int i = 0; i < n; i++)
      if (!pred(parts[i].type)) return false;
    return n > 0;
  }
};

// One row's integers q as the type defines them (value above), k of them, into q[0..k).
void ggmlRowInts(int type, const uint8_t* row, int64_t k, int16_t* q);

// Superblock s (256 inputs) of a K-type row: its fp16 d and dmin bits (Q6_K: dmin 0), and the
// scale and min of each of its 16 sub-blocks of 16 inputs (Q4_K/Q5_K: each 32's for both halves;
// Q6_K: its int8 scales, mins 0).
struct KSuper {
  uint16_t d, dmin;
  int8_t sc[16];
  uint8_t m[16];
};
KSuper ggmlSuper(int type, const uint8_t* row, int64_t s);

// Block b (32 inputs) of a Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 row: its fp16 scale's bits.
inline uint16_t ggmlBlockScale(int type, const uint8_t* row, int64_t b) {
  const uint8_t* p = row + b * ggmlRowBytes(type, 32);
  return (uint16_t)(p[0] | p[1] << 8);
}
// Block b of a Q4_1/Q5_1 row: its fp16 min's bits (the two bytes after the scale).
inline uint16_t ggmlBlockMin(int type, const uint8_t* row, int64_t b) {
  const uint8_t* p = row + b * ggmlRowBytes(type, 32);
  return (uint16_t)(p[2] | p[3] << 8);
}

}  // namespace exl
