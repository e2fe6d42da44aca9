// Quantization of weight rows (at creation) and of the activation vector (every call).
#pragma once
#include <cstdint>
#include <vector>

#include "ggml_blocks.h"
#include "layout.h"

namespace exl {

// One block of `block` inputs (the first `count` of `v` real, the rest padding): its codes, scale
// (rounded to fp16 precision, the stored one, so rounding it costs nothing beyond the fp16 step)
// and zero point (128 for int8). False if a value is not finite or the scale overflows fp16.
//
// With `gridScale`, the block comes from a file whose blocks already lie on a grid (a GGUF Q8_0,
// Q5_0 or Q4_0 block: every value is n·s, n an integer): it keeps that grid, scale s and codes
// n + zp (zp 128 for int8, 8 for int4), so the kernels see exactly the file's values. False if
// a value is not on the grid or n + zp falls outside the codes (a caller's mistake, not a rounding).
bool quantizeBlock(const float* v, int count, int block, int bits, int* codes, float* scale, int* zp,
                   const float* gridScale = nullptr);

// How one [n, k] matrix is stored when its source has a form to keep:
//   scales: the grid scale of block b (32 inputs) of row r at scales[r * cols + b], cols =
//           ceil(k / 32) (a GGUF Q8_0/Q5_0/Q4_0 matrix, its codes found from the values);
//   bits: the bits it needs whatever the caller's default (0: the caller's), e.g. 8 for a Q5_0
//         grid in a 4-bit model, so that no matrix is stored with fewer bits than its file has;
//   xGroup: 256 to quantize its activations as llama.cpp does for K-quant matrices (layout.h);
//   source + keep: the matrix's rows as the file's own blocks (ggml_blocks.h), laid out in the
//         form `keep` names without a float in between (the values are then not read at all):
//         Keep::Grid (Q4_0 at 4 bits, Q5_0 at 5, Q4_0/Q5_0/Q8_0 at 8: a scale per block),
//         Keep::Mins (Q4_1 at 4 bits, Q5_1 at 5: a scale and a min per block), Keep::Q4K, Keep::Q5K, or Keep::K6 (with `kmins`
//         where the blocks have mins);
//   bands: instead, the matrix as bands of rows one below the other, each its own form (each a
//         BlockGrid with a source: a fused q/k/v whose v is Q6_K and q, k Q4_K keeps both at
//         their file's size). Every band but the last has a multiple of 16 rows.
// Absent (all empty): quantize freely at the caller's bits.
enum class Keep { None, Grid, Mins, Q4K, Q5K, K6 };
struct BlockGrid {
  const float* scales = nullptr;
  int64_t cols = 0;
  int bits = 0;
  int xGroup = 0;
  SourceRows source;
  Keep keep = Keep::None;
  bool kmins = false;
  std::vector<BlockGrid> bands;
  bool isK() const { return keep == Keep::Q4K || keep == Keep::Q5K; }  // Q4_K's form (Q5_K: 5-bit codes)
  bool isK16() const { return keep == Keep::K6; }
  bool isMins() const { return keep == Keep::Mins; }
  // No zero points to store: a kept Q4_0 grid at 4 bits (zero point 8 everywhere) or Q5_0 at 5 (16).
  bool symmetricGrid() const { return scales != nullptr || keep == Keep::Grid; }
  const float* at(int64_t row, int64_t b) const { return scales && b < cols ? scales + row * cols + b : nullptr; }
  int bitsOr(int fallback) const { return keep == Keep::Q5K ? 5 : isK() ? 4 : isK16() ? 6 : bits ? bits : fallback; }
  // Whether the K form stores mins (Q4_K's and Q5_K's blocks have them; Q6_K's none).
  bool hasMins() const { return isK() || (isK16() && kmins); }
  // nullptr, or why this grid does not fit a matrix of k inputs quantized in blocks of `block`.
  const char* check(int64_t k, int block) const {
    if (!scales && !isK() && !isK16() && !xGroup && keep == Keep::None) return nullptr;
    if (block != 32) return "a block grid needs blockSize 32";
    if ((isK() || isK16()) && k % 256 != 0) return "K-quant blocks need a multiple of 256 inputs per row";
    if (xGroup && (xGroup != 256 || k % 256 != 0)) return "activation groups of 256 need a multiple of 256 inputs";
    if (scales && cols != (k + 31) / 32) return "a block grid needs one scale per 32 inputs of each row";
    return nullptr;
  }
};

// Quantizes `n` values (n ≤ L.d; the rest of the row is zero padding) into one row of L's format.
// `src` is read with stride `stride` (1 for a row of W, ffn for a column of W_down).
// Returns false if a value is not finite or a scale overflows fp16.
// `grid`: the row's block scales (quantizeBlock's gridScale for each block), or null.
bool quantizeRow(const Layout& L, const float* src, int64_t stride, uint8_t* row, const float* grid = nullptr);

// x[0..d) -> XQuant (q, sx, xsum; corr8 too when non-null). False if x has a NaN or infinity.
bool quantizeActivation(const Layout& L, const float* x, XQuant& out);

}  // namespace exl
