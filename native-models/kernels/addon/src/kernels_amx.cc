// AMX (Sapphire Rapids and later) for the packed kernels' many-row calls (prefill, long
// verifications): one TDPBUSD multiplies 16 activation rows by a 16-output group over 64 inputs.
// The packed layout's steps ([16 outputs][4 inputs], 64 bytes) are exactly the rows of an AMX B
// tile, so a block's codes become B tiles with a conversion to signed bytes (int8: code - 128;
// int4: the nibbles, 0..15). Activations go in as unsigned (q + 128) and the 128·Σcode that adds
// is subtracted again, exactly, in integers. The integer sums are then exactly those of the VNNI
// kernel, and the float epilogue is the same, so a row's result does not depend on whether AMX
// ran: batched prefill still gives bit for bit what one-token steps give.
#include "layout.h"
#include "packed.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-int8")

namespace exl {
namespace {

struct TileConfig {
  uint8_t palette, startRow, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Tiles 0-3: C (int32 sums of up to four row tiles); 4: A (activations); 5: B (weights). Loading
// a tile configuration is slow, so each thread keeps its last one (tile state stays with the
// thread; no other code here uses tiles).
void configure(int kBytes) {
  thread_local int configured = 0;
  if (configured == kBytes) return;
  configured = kBytes;
  TileConfig c{};
  c.palette = 1;
  for (int t = 0; t < 4; t++) c.rows[t] = 16, c.colsb[t] = 64;
  c.rows[4] = 16, c.colsb[4] = (uint16_t)kBytes;
  c.rows[5] = (uint8_t)(kBytes / 4), c.colsb[5] = 64;
  _tile_loadconfig(&c);
}

// B tile rows for inputs [4·s0, 4·(s0 + n)) of a block (n steps of 16 outputs × 4 inputs), as
// signed bytes, and each output's sum of those codes added to sums[16].
template <int BITS>
void bTile(const uint8_t* codes, int s0, int n, int8_t* out, __m512i& sums) {
  const __m512i ones = _mm512_set1_epi8(1), nib = _mm512_set1_epi8(0x0f), flip = _mm512_set1_epi8((char)0x80);
  for (int j = 0; j < n; j++) {
    const int s = s0 + j;
    __m512i w;
    if (BITS == 8) {
      w = _mm512_xor_si512(_mm512_load_si512(codes + 64 * s), flip);
    } else {
      const __m512i v = _mm512_load_si512(codes + 64 * (s / 2));
      w = _mm512_and_si512(s % 2 ? _mm512_srli_epi16(v, 4) : v, nib);
    }
    _mm512_store_si512(out + 64 * j, w);
    sums = _mm512_dpbusd_epi32(sums, ones, w);
  }
}

inline void dot(int tile) {
  // Tile numbers are immediates: one instruction per C tile.
  switch (tile) {
    case 0: _tile_dpbusd(0, 4, 5); break;
    case 1: _tile_dpbusd(1, 4, 5); break;
    case 2: _tile_dpbusd(2, 4, 5); break;
    default: _tile_dpbusd(3, 4, 5); break;
  }
}

inline void storeC(int tile, int32_t* out) {
  switch (tile) {
    case 0: _tile_stored(0, out, 64); _tile_zero(0); break;
    case 1: _tile_stored(1, out, 64); _tile_zero(1); break;
    case 2: _tile_stored(2, out, 64); _tile_zero(2); break;
    default: _tile_stored(3, out, 64); _tile_zero(3); break;
  }
}

template <int BITS>
void tiles(const PackedLayout& P, const uint8_t* group, int nTiles, const XQuant* const* x, const uint8_t* xu8,
           int64_t stride, float* const* out) {
  const int B = P.block, kb = P.in.kb, kBytes = B < 64 ? B : 64, steps = kBytes / 4;
  const uint16_t* scales = reinterpret_cast<const uint16_t*>(group + P.scalesOffset);
  const uint8_t* zps = group + P.zpOffset;
  alignas(64) int8_t bt[16 * 64];
  alignas(64) int32_t c[16 * 16];
  alignas(64) float acc[64][16];
  const int rows = 16 * nTiles;
  for (int r = 0; r < rows; r++) _mm512_store_ps(acc[r], _mm512_setzero_ps());
  configure(kBytes);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int b = 0; b < kb; b++) {
    const uint8_t* codes = group + (uint64_t)b * P.blockCodeBytes;
    __m512i sums = _mm512_setzero_si512();
    for (int k0 = 0; k0 < B; k0 += kBytes) {
      bTile<BITS>(codes, k0 / 4, steps, bt, sums);
      _tile_loadd(5, bt, 64);
      for (int t = 0; t < nTiles; t++) {
        _tile_loadd(4, xu8 + (int64_t)16 * t * stride + (int64_t)b * B + k0, stride);
        dot(t);
      }
    }
    // Σ q·code = C - 128·Σcode; then the VNNI kernel's epilogue (kernels_avx512.cc) exactly.
    const __m512i bias = _mm512_slli_epi32(sums, 7);
    const __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + b * kPackRows)));
    const __m512 zp = BITS == 8 ? _mm512_set1_ps(128.0f)
                      : P.symmetric ? _mm512_set1_ps(8.0f)
                                    : _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(zps + b * kPackRows))));
    for (int t = 0; t < nTiles; t++) {
      storeC(t, c);
      for (int r = 0; r < 16; r++) {
        const XQuant& xq = *x[16 * t + r];
        const __m512i s = _mm512_sub_epi32(_mm512_load_si512(c + 16 * r), bias);
        __m512 f;
        if (BITS == 8) {
          // s = Σ (q + 128)(code - 128) - 128·Σ(code - 128) = Σ q·(code - 128) = Σ q·code - 128·Σq:
          // VNNI computes float(Σ q·code) - 128·Σq, the same integer (below 2^24, so exact).
          f = _mm512_cvtepi32_ps(s);
        } else {
          // s = Σ q·code; VNNI: float(Σ q·code) - zp·Σq.
          f = _mm512_fnmadd_ps(zp, _mm512_set1_ps((float)xq.xsum[b]), _mm512_cvtepi32_ps(s));
        }
        _mm512_store_ps(acc[16 * t + r], _mm512_fmadd_ps(f, _mm512_mul_ps(sc, _mm512_set1_ps(xq.sx[b])), _mm512_load_ps(acc[16 * t + r])));
      }
    }
  }
  for (int r = 0; r < rows; r++) std::memcpy(out[r], acc[r], sizeof(float) * kPackRows);
}

void packedTiles(const PackedLayout& P, const uint8_t* group, int nTiles, const XQuant* const* x, const uint8_t* xu8,
                 int64_t stride, float* const* out) {
  P.bits == 8 ? tiles<8>(P, group, nTiles, x, xu8, stride, out) : tiles<4>(P, group, nTiles, x, xu8, stride, out);
}

bool amxUsable() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool tile = d & (1u << 24), int8 = d & (1u << 25);
  if (!tile || !int8) return false;
  // Linux hands out AMX state only to processes that ask (ARCH_REQ_XCOMP_PERM, XTILEDATA).
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

}  // namespace

const Kernels* amxKernels() {
  static const Kernels* k = [] () -> const Kernels* {
    const Kernels* base = avx512Kernels();
    if (!base || !amxUsable()) return nullptr;
    static Kernels amx = *base;
    amx.name = "avx512-amx";
    amx.packedTiles = packedTiles;
    return &amx;
  }();
  return k;
}

}  // namespace exl

#pragma GCC pop_options
#else
namespace exl {
const Kernels* amxKernels() { return nullptr; }
}  // namespace exl
#endif
