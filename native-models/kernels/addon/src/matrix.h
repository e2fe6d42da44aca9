// A dense weight matrix y = W·x, packed (packed.h) and multiplied with up to kMaxRows activation
// rows per call: the decoder's projections, the LM head and exit heads.
//
// Every output is computed by the same kernel arithmetic whatever the other rows of the call, so a
// row's result does not depend on how many rows share the call or on the thread count. The decoder
// relies on it: verifying several drafted tokens in one call gives bit for bit what one-token
// steps give.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "layout.h"
#include "packed.h"

namespace exl {

constexpr int kMaxRows = 64;

// Up to kMaxRows activation rows quantized for one input layout.
class ActivationRows {
 public:
  ~ActivationRows();
  // x: `rows` rows of L.d floats, `stride` floats apart, with k's quantizer where it has one.
  // False if a value is not finite (or no memory).
  bool quantize(const Kernels* k, const Layout& L, const float* x, int rows, int64_t stride);
  const XQuant& row(int s) const { return xq_[s]; }
  // The rows' codes as unsigned bytes (q + 128), `stride()` bytes apart, for tile kernels; made on
  // first use after each quantize(). nullptr when out of memory.
  const uint8_t* biased(int rows) const;
  int64_t stride() const { return dp_; }

 private:
  bool reserve(const Layout& L, int rows);
  uint8_t* buf_ = nullptr;
  size_t bytes_ = 0;
  int64_t dp_ = 0;
  mutable uint8_t* biased_ = nullptr;
  mutable size_t biasedBytes_ = 0;
  mutable int biasedRows_ = 0;
  XQuant xq_[kMaxRows] = {};
};

class Matrix {
 public:
  ~Matrix();
  // w: [n, k] row-major. Quantizes on `threads` pool threads, keeping `grid` where given (block 32).
  static std::unique_ptr<Matrix> create(int64_t n, int64_t k, int bits, int block, const float* w, int threads,
                                        std::string* err, const BlockGrid& grid = {});
  static std::unique_ptr<Matrix> read(FILE* fp, const std::string& path, std::string* err);
  bool write(FILE* fp) const;

  // out[n * k]: the weights as the kernels see them, (code - zp) · scale (tests compare them with
  // the file's own values).
  void dequantize(float* out) const;
  // Row `row` (< outputs) as the kernels see it: out[0..inputs).
  void dequantizeRow(int64_t row, float* out) const;

  // y[s * n + i] = W_i · x_s for s < rows.
  void multiply(const Kernels* k, int threads, const ActivationRows& x, int rows, float* y) const;

  // The input side's layout: what activations are quantized against.
  const Layout& layout() const { return P_.in; }
  int64_t outputs() const { return P_.n; }
  int64_t inputs() const { return P_.k; }
  int bits() const;
  bool kquant() const { return P_.kquant; }
  // The weights' bytes (a banded matrix: its bands').
  uint64_t bytes() const;

 private:
  Matrix() = default;
  // A matrix stored as bands of rows (BlockGrid::bands), each a matrix of its own form; P_ then
  // gives only the shape and the input layout, and w_ is null.
  static std::unique_ptr<Matrix> createBands(int64_t n, int64_t k, int bits, int block, const float* w, int threads,
                                             std::string* err, const BlockGrid& grid);
  bool joinBands(std::string* err);
  static std::unique_ptr<Matrix> readOne(FILE* fp, const std::string& path, std::string* err, bool inBands);
  std::vector<std::unique_ptr<Matrix>> bands_;
  bool allocate(std::string* err);
  const uint8_t* group(int64_t g) const { return w_ + (uint64_t)g * P_.groupBytes; }
  friend struct MatrixQuantJob;
  friend struct MultiplyJob;
  PackedLayout P_{};
  uint8_t* w_ = nullptr;
};

// Picks a thread count for `macs` multiply-adds: waking pool workers costs microseconds, more
// than a small product takes on one core.
int threadsFor(double macs, int threads);

}  // namespace exl

namespace exl {

// y = W · (norm ? RMSNorm(x) ⊙ norm : x) + b, for the LM head (with the final norm) and exit heads.
class Linear {
 public:
  static std::unique_ptr<Linear> create(int64_t n, int64_t k, int bits, int block, const float* w, const float* bias,
                                        const float* norm, float eps, int threads, std::string* err,
                                        const BlockGrid& grid = {});
  static std::unique_ptr<Linear> load(const std::string& path, std::string* err);
  bool save(const std::string& path, std::string* err) const;
  // x: [rows, k] -> y: [rows, n]. Returns false on a non-finite input or no memory.
  bool run(const Kernels* kern, int threads, const float* x, int rows, float* y);
  const Matrix& matrix() const { return *m_; }

 private:
  Linear() = default;
  std::unique_ptr<Matrix> m_;
  std::unique_ptr<float[]> bias_, norm_, normed_;
  int normedRows_ = 0;
  float eps_ = 0;
  ActivationRows xq_;
};

}  // namespace exl
