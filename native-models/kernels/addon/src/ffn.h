// One FFN's quantized weights and the batch-1 forward pass over them:
//   out = W_down · (act(W_gate x) ⊙ (W_up x)), neurons with |act(gate)| ≤ threshold skipped (CATS);
//   act is SiLU (SwiGLU) or tanh-approximated GELU (GeGLU) as the layout says.
#pragma once
#include <atomic>
#include <cmath>
#include <memory>
#include <string>

#include "layout.h"
#include "matrix.h"
#include "pool.h"

namespace exl {

// Neurons are split into this many fixed stripes, each with its own output accumulator, summed in
// stripe order at the end. Threads claim whole stripes, so results are bit-identical whatever the
// thread count or the scheduling, while a descheduled thread still leaves stripes to the others.
constexpr int kStripes = 8;

// "auto" picks the best kernels this CPU runs; "avx512" | "avx2" | "neon-dotprod" | "neon" | "scalar" force one
// (tests cover every path on one machine). Returns nullptr and sets *err if unavailable here.
const Kernels* selectKernels(const std::string& isa, std::string* err);
// Names of the kernel sets this CPU can run, best first (e.g. "avx512-vnni,avx2,scalar").
std::string availableKernels();

// The gate activation of Layout::activation: SiLU, or GELU with the tanh approximation
// 0.5·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))) as Gemma (and llama.cpp's ggml_gelu) use.
inline float activate(float g, int32_t activation) {
  if (activation == 0) return g / (1.0f + std::exp(-g));
  return 0.5f * g * (1.0f + std::tanh(0.7978845608f * (g + 0.044715f * g * g * g)));
}

// The source's block grids of the three matrices (quantize.h); any may be absent.
struct FfnGrids {
  BlockGrid gate, up, down;
};

class Ffn {
 public:
  ~Ffn();
  // gate, up: [ffn, d] row-major; down: [d, ffn] row-major (as in y = W x). Quantization runs on
  // `threads` threads of the shared pool. Returns nullptr and sets *err on bad input. The gate and
  // up rows keep their grids; a down row is a column of W_down, across the file's blocks, so it is
  // quantized freely.
  static std::unique_ptr<Ffn> create(const Layout& L, const float* gate, const float* up, const float* down,
                                     int threads, std::string* err, const FfnGrids& grids = {});
  // Only the packed dense form, quantized once from the float weights (no per-neuron rows); every
  // matrix keeps its grid.
  static std::unique_ptr<Ffn> createDense(const Layout& L, const float* gate, const float* up, const float* down,
                                          int threads, std::string* err, const FfnGrids& grids = {});
  // Loads either file form (per-neuron rows, or packed dense only), told apart by the magic.
  static std::unique_ptr<Ffn> load(const std::string& path, std::string* err);
  // Writes the rows form when the rows are in memory, else the packed dense form.
  bool save(const std::string& path, std::string* err) const;

  // threshold ≤ 0: dense (every neuron). acts (optional, [ffn]) receives act(gate).
  // Returns the number of active neurons, -1 when out of memory, -2 when x is not finite.
  // Not re-entrant: callers serialise per handle.
  int run(const Kernels* k, int threads, const float* x, float* out, float threshold, float* acts);
  // The same for `rows` rows (x, out: [rows, d]) in one pass over the weights; each row's result is
  // bit-identical to run() on it alone. acts only when rows == 1. Returns the active neurons summed.
  int runRows(const Kernels* k, int threads, int rows, const float* x, float* out, float threshold, float* acts);

  // Adds a packed dense copy of the weights (matrix.h) that runs threshold-0 passes: the packed
  // kernels cost less per output and share each weight load among several rows. With
  // `releaseRows` the per-neuron rows are freed afterwards (one copy of the weights in memory):
  // sparse passes, activation recording and save() then fail with kRowsReleased.
  bool packDense(int threads, bool releaseRows, std::string* err);
  bool hasDense() const { return gate_ != nullptr; }
  // W_gate, W_up or W_down (which 0, 1, 2) as the kernels see them, [ffn, d] or [d, ffn]: from the
  // packed form where there is one (the dense passes), else from the rows.
  void dequantize(int which, float* out) const;
  bool hasRows() const { return w_ != nullptr; }
  static constexpr int kRowsReleased = -3;

  const Layout& layout() const { return L_; }
  const uint8_t* weights() const { return w_; }

 private:
  Ffn() = default;
  bool allocate(const Layout& L, std::string* err);
  bool saveDense(const std::string& path, std::string* err) const;
  static std::unique_ptr<Ffn> loadDense(FILE* fp, const Layout& L, const std::string& path, std::string* err);
  friend struct RunJob;
  friend struct QuantJob;

  Layout L_{};
  uint8_t* w_ = nullptr;
  // Per-call scratch, allocated once: the quantized activation, one output accumulator per stripe
  // and the kernels' scratch per thread.
  ActivationRows xq_;
  // Packed dense form (packDense, createDense): gate/up [ffn, d], down [d, ffn].
  std::unique_ptr<Matrix> gate_, up_, down_;
  int runDense(const Kernels* k, int threads, int rows, const float* x, float* out);
  float* acc_[kStripes] = {};  // [kMaxRows][dp] per stripe, allocated on first use
  int accRows_ = 0;
  float* kscratch_[kMaxThreads] = {};
};

}  // namespace exl
