// Weight layout of one sparse FFN, shared by every kernel and by save/load.
//
// Each neuron i owns three quantized rows of d inputs/outputs: gate_i and up_i (rows of W_gate and
// W_up, y = W x) and down_i (column i of W_down, stored transposed so that the neuron's whole
// output contribution is one contiguous row, accumulated with an axpy as PowerInfer does).
// A row is: codes (dp bytes for int8, dp/2 for int4), then one fp16 scale per block, then (int4
// only) one zero-point byte per block, padded to 64 bytes so every row starts cache-line aligned.
//   int8: w = (code - 128) * scale            (symmetric, like MatMulNBits int8)
//   int4: w = (code - zp) * scale, code 0..15 (asymmetric, like MatMulNBits int4)
// int4 packing: within each 64-element group, byte k holds element k (low nibble) and element
// k+32 (high nibble), so one 32-byte load unpacks into 64 elements in natural order.
// Rows are padded with zero weights up to dp = d rounded up to a multiple of max(block, 64).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace exl {

enum class RowOrder : int32_t {
  // gate_i, up_i, down_i adjacent: an inactive neuron skips one contiguous run (up_i + down_i).
  Interleaved = 0,
  // all gate rows, then all up rows, then all down rows (three streams).
  Planar = 1,
};

struct Layout {
  int32_t d, ffn, bits, block;
  int32_t dp;            // padded row length
  int32_t kb;            // blocks per row
  int32_t blockShift;    // log2(block)
  uint32_t scalesOffset; // byte offset of the fp16 scales in a row (= code bytes)
  uint32_t zpOffset;     // byte offset of the zero points (int4)
  uint32_t rowBytes;     // multiple of 64
  RowOrder order;
  uint64_t totalBytes;
  // The gate's activation: 0 SiLU (SwiGLU), 1 tanh-approximated GELU (GeGLU, Gemma). Not part of
  // the byte layout; files keep it in their header.
  int32_t activation = 0;
  // Inputs that share one activation scale: 0 (each block its own), or 256 for a matrix from a
  // file's K-quant blocks, whose activations llama.cpp quantizes as Q8_K: one float scale per 256
  // (each block of the 256 then carries that scale and its own Σq).
  int32_t xGroup = 0;

  // Byte offset of row `which` (0 gate, 1 up, 2 down) of neuron i.
  uint64_t rowOffset(int which, int64_t i) const {
    return order == RowOrder::Interleaved ? (uint64_t)(3 * i + which) * rowBytes
                                          : ((uint64_t)which * ffn + (uint64_t)i) * rowBytes;
  }
};

// Fills `out`; returns nullptr or a static message saying which argument is unsupported.
const char* makeLayout(int64_t d, int64_t ffn, int64_t bits, int64_t block, RowOrder order, Layout* out);

// An activation vector quantized to int8 per block (llama.cpp Q8 / onnxruntime accuracy_level 4).
struct XQuant {
  int8_t* q;       // [dp], 64-byte aligned, zero past d
  float* sx;       // [kb] scale: x ≈ q * sx
  int32_t* xsum;   // [kb] Σ q over the block, for the exact zero-point term zp·Σq
  int32_t* corr8;  // [dp/4] int8 AVX-512 only: -128 * Σq at the first int32 lane of each block
  int32_t* xsumLo; // [kb] Σ q over each block's first 16 inputs: set only where xGroup is (Q6_K's halves)
};

static inline uint16_t floatToHalf(float f);
static inline float halfToFloat(uint16_t h);

// Block b's scale and sums (its codes, B wide from element `start`, are already in out.q); shared
// by every activation quantizer so they store the same numbers. The scale is rounded to fp16 as
// llama.cpp's Q8_0 activation blocks store it (codes from 127/amax, rounded to nearest even, as
// there): on a file's own block grid the products are then the ones llama.cpp sums, which keeps
// near-tied tokens the same. Beyond fp16's range it stays fp32.
inline void setBlockSums(XQuant& out, int b, int start, int B, float sx, int sum) {
  out.sx[b] = sx;
  out.xsum[b] = sum;
  if (out.corr8) {
    for (int j = 0; j < B / 4; j++) out.corr8[start / 4 + j] = 0;
    out.corr8[start / 4] = -128 * sum;
  }
}
inline void setBlockStats(XQuant& out, int b, int start, int B, float amax, int sum) {
  const float sx = amax / 127.0f;
  const float sx16 = halfToFloat(floatToHalf(sx));
  setBlockSums(out, b, start, B, sx16 <= 65504.0f ? sx16 : sx, sum);
}

// Rows the kernel should prefetch while it works: the rows of the next group the scheduler will
// hand it. Hardware prefetchers lose track when a pass hops between short rows (and a sparse pass
// hops by design), so each group's rows are requested one group ahead, spread over its steps.
struct Prefetch {
  const uint8_t* rows[4];
  int n;
};

struct PackedLayout;  // packed.h

// A row dot product / axpy for one instruction set. Rows are pointers into the weight buffer.
struct Kernels {
  const char* name;
  // out[r] = row_r · x for n rows (1..4).
  void (*dot)(const Layout& L, const uint8_t* const* rows, int n, const XQuant& x, float* out, const Prefetch& pf);
  // acc[0..dp) += Σ_r h[r] * row_r for n rows (1..4); `scratch` holds 5*kb floats.
  void (*axpy)(const Layout& L, const uint8_t* const* rows, const float* h, int n, float* acc, float* scratch,
               const Prefetch& pf);
  // Attention over `count` cached positions of one head (rows of hd floats, contiguous):
  // scores[i] = scale · q·keys[i], and out[0..hd) = Σ p[i] · values[i].
  void (*scores)(const float* q, const float* keys, int hd, int count, float scale, float* out);
  void (*mix)(const float* p, const float* values, int hd, int count, float* out);
  // The same for nq queries of one KV head (query i at q + i·hd, its scores or probabilities at
  // out or p + i·stride, its mix at out + i·hd), each key and value read from memory once for all
  // of them; query i's numbers are exactly what scores/mix give it alone. nullptr: loop the above.
  void (*scoresGroup)(const float* q, int nq, const float* keys, int hd, int count, float scale, float* out, int64_t stride);
  void (*mixGroup)(const float* p, int nq, int64_t stride, const float* values, int hd, int count, float* out);
  // s[0..n) = softmax(s) in place.
  void (*softmax)(float* s, int n);
  // g[i] = SiLU(g[i]) · u[i] (the SwiGLU FFN's hidden activation).
  void (*siluMul)(float* g, const float* u, int64_t n);
  // Packed matrices (packed.h): out[m][0..16) = the 16 rows of `group` · x[m], for m < rows ≤ packedRows.
  void (*packed)(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out);
  // Activation rows one `packed` call takes (they share each weight load): as many as the
  // accumulators the register file holds.
  int packedRows;
  // x[0..d) -> XQuant with exactly quantizeActivation's results (quantize.h), vectorized;
  // nullptr: quantizeActivation itself. It runs for every row of every matrix call.
  bool (*quantize)(const Layout& L, const float* x, XQuant& out);
  // Tile kernel (AMX), nullptr where there is none: out[r][0..16) for 16·nTiles rows (nTiles ≤ 4)
  // of x, with xu8 the same rows' codes as unsigned bytes (q + 128), `stride` bytes apart.
  // Exactly the results of `packed` on the same rows.
  void (*packedTiles)(const PackedLayout& P, const uint8_t* group, int nTiles, const XQuant* const* x,
                      const uint8_t* xu8, int64_t stride, float* const* out);
  // out[0..n) = the IEEE half-precision values h[0..n) (a half KV cache's keys and values, in
  // L1-sized pieces); nullptr: halfToFloat one value at a time.
  void (*halvesToFloats)(const uint16_t* h, int n, float* out);
  // out[0..n) = floatToHalf(f[0..n)) (round to nearest even); nullptr: floatToHalf one at a time.
  void (*floatsToHalves)(const float* f, int n, uint16_t* out);
};

// The portable softmax and SiLU (std::exp), for kernel sets without a vector exp.
void scalarSoftmax(float* s, int n);
void scalarSiluMul(float* g, const float* u, int64_t n);

// The portable packed kernel (NEON builds use it until they have their own).
void scalarPacked(const PackedLayout& P, const uint8_t* group, int rows, const XQuant* const* x, float* const* out);

// Step `s` of the dp/64 steps of a pass: prefetch this step's share of every row in `pf`.
// A macro, not a function: GCC marks a function whose only effect is __builtin_prefetch as
// "const" and deletes the calls to it (measured: no prefetch instruction was left in the kernels).
#if defined(__GNUC__)
#define EXL_PREFETCH_STEP(L, pf, s)                                                              \
  do {                                                                                           \
    const int exlLines_ = (int)((L).rowBytes >> 6), exlSteps_ = (L).dp >> 6;                     \
    const int exlFrom_ = (s) * exlLines_ / exlSteps_, exlTo_ = ((s) + 1) * exlLines_ / exlSteps_; \
    for (int exlR_ = 0; exlR_ < (pf).n; exlR_++)                                                 \
      for (int exlL_ = exlFrom_; exlL_ < exlTo_; exlL_++)                                        \
        __builtin_prefetch((pf).rows[exlR_] + ((size_t)exlL_ << 6), 0, 3);                      \
  } while (0)
#else
#define EXL_PREFETCH_STEP(L, pf, s) ((void)0)
#endif

const Kernels* scalarKernels();
const Kernels* avx2Kernels();    // nullptr when not compiled for this architecture
const Kernels* avx512Kernels();  // AVX-512 F/BW/VL + VNNI
const Kernels* amxKernels();     // the AVX-512 set with AMX tiles for many-row calls
const Kernels* neonKernels();    // arm64: baseline Advanced SIMD
const Kernels* neonDotKernels(); // arm64 with the Armv8.2 dot-product instructions

// IEEE half <-> float, round to nearest even (portable; kernels use F16C where they can).
static inline uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = (int32_t)((x >> 23) & 0xff);
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    const int shift = 14 - e;
    const uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    return (uint16_t)(sign | (half + ((rem > mid || (rem == mid && (half & 1))) ? 1 : 0)));
  }
  uint32_t half = ((uint32_t)e << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++;
  return (uint16_t)(sign | half);
}

static inline float halfToFloat(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, x;
  if (exp == 0x1f) x = sign | 0x7f800000u | (mant << 13);
  else if (exp == 0) {
    if (mant == 0) x = sign;
    else {  // subnormal: normalise
      int e = -1;
      do { mant <<= 1; e++; } while (!(mant & 0x400u));
      x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

}  // namespace exl
