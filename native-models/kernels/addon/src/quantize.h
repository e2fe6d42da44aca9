// Quantization of weight rows (at creation) and of the activation vector (every call).
#pragma once
#include "layout.h"

namespace exl {

// One block of `block` inputs (the first `count` of `v` real, the rest padding): its codes, scale
// (rounded to fp16 precision, the stored one, so rounding it costs nothing beyond the fp16 step)
// and zero point (128 for int8). False if a value is not finite or the scale overflows fp16.
bool quantizeBlock(const float* v, int count, int block, int bits, int* codes, float* scale, int* zp);

// Quantizes `n` values (n ≤ L.d; the rest of the row is zero padding) into one row of L's format.
// `src` is read with stride `stride` (1 for a row of W, ffn for a column of W_down).
// Returns false if a value is not finite or a scale overflows fp16.
bool quantizeRow(const Layout& L, const float* src, int64_t stride, uint8_t* row);

// x[0..d) -> XQuant (q, sx, xsum; corr8 too when non-null). False if x has a NaN or infinity.
bool quantizeActivation(const Layout& L, const float* x, XQuant& out);

}  // namespace exl
