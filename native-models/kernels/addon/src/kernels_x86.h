// x86 pieces shared by the AVX2 and AVX-512 kernels. Each function has internal linkage (static):
// the files are compiled for different instruction sets, and one shared inline definition
// could be linked into the other file's calls with instructions that CPU lacks.
#pragma once
// Only x86-64 builds have these; the files that include this compile to nothing elsewhere (arm64).
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "packed.h"

namespace exl {

// Q4_K: the 6-bit values (sc or m) of block b for the 16 rows of a group, as 16 bytes, from the
// values' region at `base` (packedSix): one load of nibbles, one of bit pairs.
static inline __m128i packedSixRows(const uint8_t* base, int kb, int b) {
  const __m128i lowShift = _mm_cvtsi32_si128(4 * (b % 2)), topShift = _mm_cvtsi32_si128(2 * (b % 4));
  const __m128i nibbles = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + (b / 2) * kPackRows));
  const __m128i pairs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + kb * kPackRows / 2 + (b / 4) * kPackRows));
  const __m128i low = _mm_and_si128(_mm_srl_epi16(nibbles, lowShift), _mm_set1_epi8(15));
  const __m128i top = _mm_and_si128(_mm_srl_epi16(pairs, topShift), _mm_set1_epi8(3));
  return _mm_or_si128(low, _mm_slli_epi16(top, 4));
}

}  // namespace exl

#endif
