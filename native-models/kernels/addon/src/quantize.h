// Quantization of weight rows (at creation) and of the activation vector (every call).
#pragma once
#include <cstdint>

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

// ggml's Q4_K blocks of one [n, k] matrix (k a multiple of 256): per row, a superblock of 256
// inputs has fp16 d and dmin, and each of its 8 blocks of 32 a 6-bit scale sc and min m, so
// value = (d·sc)·q - (dmin·m), q 0..15 (ggml's dequantize_row_q4_K, in float). Row r's d of
// superblock s at d[r·k/256 + s], its sc of block b at sc[r·k/32 + b]; dmin and m alike.
struct KBlocks {
  const float* d = nullptr;
  const float* dmin = nullptr;
  const uint8_t* sc = nullptr;
  const uint8_t* m = nullptr;
};

// K-quant blocks with a scale per 16 inputs, one [n, k] matrix (k a multiple of 256): per row,
// fp16 d and dmin per 256 inputs, an int8 scale per 16 and a u8 min per 32; value =
// (d·sc)·c - dmin·m, c in -32..31 (6 bits, packed.h K6). Q6_K is that with m = 0 (c = q - 32);
// Q4_K and Q5_K with each scale of 32 given to both its halves (c = q); so a matrix stacking rows
// of several K types is one of these.
// Row r's d and dmin of superblock s at [r·k/256 + s], its scale of inputs [16i, 16i+16) at
// sc[r·k/16 + i], its min of block b at m[r·k/32 + b]. dmin and m null: no mins (all zero).
struct K16Blocks {
  const float* d = nullptr;
  const float* dmin = nullptr;
  const int8_t* sc = nullptr;
  const uint8_t* m = nullptr;
};

// How one [n, k] matrix is stored when its source has a form to keep:
//   scales: the grid scale of block b (32 inputs) of row r at scales[r * cols + b], cols =
//           ceil(k / 32) (a GGUF Q8_0/Q5_0/Q4_0 matrix), or
//   kblocks: its Q4_K blocks (4 bits, the file's codes, scales and mins), or
//   k16blocks: its K-quant blocks with a scale per 16 (Q6_K, Q5_K, or a stack of K types);
//   bits: the bits it needs whatever the caller's default (0: the caller's), e.g. 8 for a Q5_0
//         grid in a 4-bit model, so that no matrix is stored with fewer bits than its file has;
//   xGroup: 256 to quantize its activations as llama.cpp does for K-quant matrices (layout.h);
//   source + keep: the matrix's rows as the file's own blocks (ggml_blocks.h), laid out in the
//         form `keep` names without a float in between (the values are then not read at all):
//         Keep::Grid (Q4_0/Q5_0/Q8_0 scales at `bits`), Keep::Q4K, or Keep::K6 (with `kmins`
//         where the blocks have mins).
// Absent (all empty): quantize freely at the caller's bits.
enum class Keep { None, Grid, Q4K, K6 };
struct BlockGrid {
  const float* scales = nullptr;
  int64_t cols = 0;
  KBlocks kblocks;
  K16Blocks k16blocks;
  int bits = 0;
  int xGroup = 0;
  SourceRows source;
  Keep keep = Keep::None;
  bool kmins = false;
  bool isK() const { return kblocks.sc != nullptr || keep == Keep::Q4K; }
  bool isK16() const { return k16blocks.sc != nullptr || keep == Keep::K6; }
  // Symmetric int4: a kept Q4_0 grid (zero point 8 everywhere).
  bool symmetric4() const { return scales != nullptr || keep == Keep::Grid; }
  const float* at(int64_t row, int64_t b) const { return scales && b < cols ? scales + row * cols + b : nullptr; }
  int bitsOr(int fallback) const { return isK() ? 4 : isK16() ? 6 : bits ? bits : fallback; }
  // K16: whether the blocks have mins (dmin and m given; Q6_K's have none, and the K6 form then
  // stores none).
  bool hasMins() const { return isK() || k16blocks.dmin != nullptr || (keep == Keep::K6 && kmins); }
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
