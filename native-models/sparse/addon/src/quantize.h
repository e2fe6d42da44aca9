// Quantization of weight rows (at creation) and of the activation vector (every call).
#pragma once
#include "layout.h"

namespace exl {

// Quantizes `n` values (n ≤ L.d; the rest of the row is zero padding) into one row of L's format.
// `src` is read with stride `stride` (1 for a row of W, ffn for a column of W_down).
// Returns false if a value is not finite or a scale overflows fp16.
bool quantizeRow(const Layout& L, const float* src, int64_t stride, uint8_t* row);

// x[0..d) -> XQuant (q, sx, xsum; corr8 too when non-null). False if x has a NaN or infinity.
bool quantizeActivation(const Layout& L, const float* x, XQuant& out);

}  // namespace exl
