// Quantization of weight rows (at creation) and of the activation vector (every call).
#pragma once
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

// The source's grid for one [n, k] matrix: the scale of block b (32 inputs) of row r at
// scales[r * cols + b], cols = ceil(k / 32). Absent (scales null): quantize freely.
struct BlockGrid {
  const float* scales = nullptr;
  int64_t cols = 0;
  const float* at(int64_t row, int64_t b) const { return scales && b < cols ? scales + row * cols + b : nullptr; }
  // nullptr, or why this grid does not fit a matrix of k inputs quantized in blocks of `block`.
  const char* check(int64_t k, int block) const {
    if (!scales) return nullptr;
    if (block != 32) return "a block grid needs blockSize 32";
    if (cols != (k + 31) / 32) return "a block grid needs one scale per 32 inputs of each row";
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
