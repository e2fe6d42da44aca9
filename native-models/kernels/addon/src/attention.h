// The attention half of one decoder layer for decode-sized batches (a token, or a few drafted
// tokens being verified), so the decode loop never leaves native code inside a layer:
//   x -> RMSNorm -> W_qkv (+ bias) -> [per-head RMSNorm on q, k] -> rotary on q, k -> K/V into the
//     layer's cache -> grouped-query attention over the cache (or its last `window` slots)
//     -> W_o -> [RMSNorm] -> residual = x + attn; ffn_in = RMSNorm(residual)
// The FFN then runs in ffn.cc. Rows are independent (row s attends to cache slots 0..len+s), and
// each row's arithmetic is the same whatever the batch: see matrix.h.
#pragma once
#include <memory>
#include <string>

#include "matrix.h"

namespace exl {

struct AttentionConfig {
  int32_t d, heads, kvHeads, headDim, bits, block;
  int32_t hasBias;      // q/k/v biases (Qwen2)
  int32_t interleaved;  // rotary on adjacent pairs (Meta/llama2.c layout) rather than half-split
  float eps;            // RMSNorm epsilon
  // Since version 2 of the file (version 1 files read as 0 = off):
  int32_t hasQkNorm;    // per-head RMSNorm on q and k before rotary (Qwen3, Gemma 3)
  int32_t window;       // sliding window: a row attends to its last `window` slots (0: all of them)
  float scale;          // attention score scale (0: 1/sqrt(headDim); Gemma 3: query_pre_attn_scalar^-1/2)
  int32_t hasPostNorm;  // RMSNorm on the attention output before the residual add (Gemma 3)
};

struct AttentionWeights {
  const float* attnNorm;  // [d]
  const float* wqkv;      // [heads*hd + 2*kvHeads*hd, d]
  const float* bqkv;      // [heads*hd + 2*kvHeads*hd] or null
  const float* wo;        // [d, heads*hd]
  const float* ffnNorm;   // [d]
  const float* qNorm;     // [hd] or null (hasQkNorm)
  const float* kNorm;     // [hd] or null
  const float* postNorm;  // [d] or null (hasPostNorm)
  BlockGrid qkvGrid, oGrid;  // the source's block grids (quantize.h), or absent
};

// Where the rows go: the layer's K/V buffers ([kvHeads, capacity, hd] each, floats or IEEE
// halves) and the rotary tables.
struct AttentionStep {
  int rows;
  const float* x;         // [rows, d]
  const int32_t* positions;
  const float* cos;       // [tablePositions, hd/2]
  const float* sin;
  int tablePositions;
  void* key;
  void* value;
  // Keys and values stored as halves (uint16_t), as llama.cpp's default cache: a decode step reads
  // the whole cache of every layer: in floats, a 7B model's cache of 4k tokens is as many bytes as
  // its Q4_0 weights.
  bool halfKv;
  int capacity;           // slots per KV head in the buffers
  int cached;             // slots already filled; row s is written to slot cached + s
  float* residual;        // [rows, d] out
  float* ffnIn;           // [rows, d] out
  int64_t kvValueBytes() const { return halfKv ? 2 : 4; }
};

class Attention {
 public:
  static std::unique_ptr<Attention> create(const AttentionConfig& c, const AttentionWeights& w, int threads,
                                           std::string* err);
  static std::unique_ptr<Attention> load(const std::string& path, std::string* err);
  bool save(const std::string& path, std::string* err) const;
  // Returns nullptr or a message (bad arguments, non-finite input, no memory).
  const char* run(const Kernels* k, int threads, const AttentionStep& s);

  const AttentionConfig& config() const { return c_; }
  const Matrix& qkv() const { return *qkv_; }
  const Matrix& o() const { return *o_; }
  uint64_t bytes() const { return qkv_->bytes() + o_->bytes(); }

 private:
  Attention() = default;
  bool checkConfig(std::string* err) const;
  friend struct AttentionJob;
  AttentionConfig c_{};
  std::unique_ptr<float[]> attnNorm_, ffnNorm_, bias_, qNorm_, kNorm_, postNorm_;
  std::unique_ptr<Matrix> qkv_, o_;
};

}  // namespace exl
