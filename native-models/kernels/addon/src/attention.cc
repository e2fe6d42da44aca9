#include "attention.h"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <new>

#include "pool.h"
#include "scratch.h"
#include "input_file.h"

namespace exl {
namespace {

// Version 1 files (before q/k norms, windows, scales and post-norms) stay readable.
constexpr char kMagicV1[8] = {'E', 'X', 'L', 'A', 'T', 'T', 'N', '1'};
constexpr char kMagic[8] = {'E', 'X', 'L', 'A', 'T', 'T', 'N', '2'};
constexpr uint32_t kEndianMark = 0x01020304u;
constexpr size_t kConfigV1Bytes = 9 * 4;  // d .. eps

struct FileHeader {
  char magic[8];
  uint32_t headerBytes, endianMark;
  AttentionConfig c;
  uint8_t pad[128 - 16 - sizeof(AttentionConfig)];
};
static_assert(sizeof(FileHeader) == 128, "header is 128 bytes");
static_assert(offsetof(AttentionConfig, hasQkNorm) == kConfigV1Bytes, "version 1 fields come first");
constexpr size_t kHeaderV1Bytes = 64;

void rmsNorm(const float* x, const float* w, int d, float eps, float* out) {
  float ss = 0;
  for (int i = 0; i < d; i++) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / (float)d + eps);
  for (int i = 0; i < d; i++) out[i] = x[i] * inv * w[i];
}

// Rotates `heads` heads of hd values in place for one position.
void rotate(float* v, int heads, int hd, const float* cos, const float* sin, bool interleaved) {
  const int half = hd / 2;
  for (int h = 0; h < heads; h++) {
    float* p = v + (size_t)h * hd;
    for (int i = 0; i < half; i++) {
      const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
      const float x0 = p[a], x1 = p[b];
      p[a] = x0 * cos[i] - x1 * sin[i];
      p[b] = x0 * sin[i] + x1 * cos[i];
    }
  }
}

}  // namespace

bool Attention::checkConfig(std::string* err) const {
  const AttentionConfig& c = c_;
  if (c.d < 1 || c.heads < 1 || c.kvHeads < 1 || c.headDim < 2 || c.headDim % 2 || c.heads % c.kvHeads ||
      c.headDim > 1024 || c.heads > 1024 || !(c.eps > 0)) {
    *err = "attention: bad shape (d, heads, kvHeads, headDim, eps)";
    return false;
  }
  if (c.window < 0 || !(c.scale >= 0) || !std::isfinite(c.scale)) {
    *err = "attention: bad window or scale";
    return false;
  }
  return true;
}

std::unique_ptr<Attention> Attention::create(const AttentionConfig& c, const AttentionWeights& w, int threads,
                                             std::string* err) {
  std::unique_ptr<Attention> a(new Attention());
  a->c_ = c;
  if (!a->checkConfig(err)) return nullptr;
  const int64_t qd = (int64_t)c.heads * c.headDim, kvd = (int64_t)c.kvHeads * c.headDim, n = qd + 2 * kvd;
  a->attnNorm_.reset(new float[c.d]);
  a->ffnNorm_.reset(new float[c.d]);
  std::memcpy(a->attnNorm_.get(), w.attnNorm, sizeof(float) * c.d);
  std::memcpy(a->ffnNorm_.get(), w.ffnNorm, sizeof(float) * c.d);
  if (c.hasBias) {
    a->bias_.reset(new float[n]);
    std::memcpy(a->bias_.get(), w.bqkv, sizeof(float) * n);
  }
  if (c.hasQkNorm) {
    a->qNorm_.reset(new float[c.headDim]);
    a->kNorm_.reset(new float[c.headDim]);
    std::memcpy(a->qNorm_.get(), w.qNorm, sizeof(float) * c.headDim);
    std::memcpy(a->kNorm_.get(), w.kNorm, sizeof(float) * c.headDim);
  }
  if (c.hasPostNorm) {
    a->postNorm_.reset(new float[c.d]);
    std::memcpy(a->postNorm_.get(), w.postNorm, sizeof(float) * c.d);
  }
  if (!(a->qkv_ = Matrix::create(n, c.d, c.bits, c.block, w.wqkv, threads, err, w.qkvGrid))) return nullptr;
  if (!(a->o_ = Matrix::create(c.d, qd, c.bits, c.block, w.wo, threads, err, w.oGrid))) return nullptr;
  return a;
}

bool Attention::save(const std::string& path, std::string* err) const {
  FileHeader h{};
  std::memcpy(h.magic, kMagic, 8);
  h.headerBytes = sizeof h;
  h.endianMark = kEndianMark;
  h.c = c_;
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) {
    *err = "cannot open " + path + " for writing: " + std::strerror(errno);
    return false;
  }
  const int64_t n = qkv_->outputs();
  bool ok = std::fwrite(&h, sizeof h, 1, fp) == 1;
  ok = ok && std::fwrite(attnNorm_.get(), sizeof(float), c_.d, fp) == (size_t)c_.d;
  ok = ok && std::fwrite(ffnNorm_.get(), sizeof(float), c_.d, fp) == (size_t)c_.d;
  if (c_.hasBias) ok = ok && std::fwrite(bias_.get(), sizeof(float), n, fp) == (size_t)n;
  if (c_.hasQkNorm)
    ok = ok && std::fwrite(qNorm_.get(), sizeof(float), c_.headDim, fp) == (size_t)c_.headDim &&
         std::fwrite(kNorm_.get(), sizeof(float), c_.headDim, fp) == (size_t)c_.headDim;
  if (c_.hasPostNorm) ok = ok && std::fwrite(postNorm_.get(), sizeof(float), c_.d, fp) == (size_t)c_.d;
  ok = ok && qkv_->write(fp) && o_->write(fp);
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) *err = "writing " + path + " failed: " + std::strerror(errno);
  return ok;
}

std::unique_ptr<Attention> Attention::load(const std::string& path, std::string* err) {
  InputFile file(path, err);
  FILE* fp = file.fp();
  if (!fp) return nullptr;
  FileHeader h{};
  // Both versions start with the same 64 bytes; a version 1 header ends there.
  if (std::fread(&h, kHeaderV1Bytes, 1, fp) != 1) {
    *err = path + " is not a native attention file (too short)";
    return nullptr;
  }
  const bool v1 = std::memcmp(h.magic, kMagicV1, 8) == 0;
  if (!v1 && std::memcmp(h.magic, kMagic, 8) != 0) {
    *err = path + " is not a native attention file (bad magic)";
    return nullptr;
  }
  const size_t headerBytes = v1 ? kHeaderV1Bytes : sizeof h;
  if (h.endianMark != kEndianMark || h.headerBytes != headerBytes) {
    *err = path + ": unsupported header (other byte order or version)";
    return nullptr;
  }
  if (v1) {
    std::memset(reinterpret_cast<char*>(&h.c) + kConfigV1Bytes, 0, sizeof h.c - kConfigV1Bytes);
  } else if (std::fread(reinterpret_cast<char*>(&h) + kHeaderV1Bytes, sizeof h - kHeaderV1Bytes, 1, fp) != 1) {
    *err = path + " is truncated";
    return nullptr;
  }
  std::unique_ptr<Attention> a(new Attention());
  a->c_ = h.c;
  if (!a->checkConfig(err)) return nullptr;
  const AttentionConfig& c = a->c_;
  const int64_t qd = (int64_t)c.heads * c.headDim, n = qd + 2 * (int64_t)c.kvHeads * c.headDim;
  a->attnNorm_.reset(new float[c.d]);
  a->ffnNorm_.reset(new float[c.d]);
  bool ok = std::fread(a->attnNorm_.get(), sizeof(float), c.d, fp) == (size_t)c.d &&
            std::fread(a->ffnNorm_.get(), sizeof(float), c.d, fp) == (size_t)c.d;
  if (ok && c.hasBias) {
    a->bias_.reset(new float[n]);
    ok = std::fread(a->bias_.get(), sizeof(float), n, fp) == (size_t)n;
  }
  if (ok && c.hasQkNorm) {
    a->qNorm_.reset(new float[c.headDim]);
    a->kNorm_.reset(new float[c.headDim]);
    ok = std::fread(a->qNorm_.get(), sizeof(float), c.headDim, fp) == (size_t)c.headDim &&
         std::fread(a->kNorm_.get(), sizeof(float), c.headDim, fp) == (size_t)c.headDim;
  }
  if (ok && c.hasPostNorm) {
    a->postNorm_.reset(new float[c.d]);
    ok = std::fread(a->postNorm_.get(), sizeof(float), c.d, fp) == (size_t)c.d;
  }
  if (!ok) {
    *err = path + " is truncated";
    return nullptr;
  }
  if (!(a->qkv_ = Matrix::read(fp, path, err)) || !(a->o_ = Matrix::read(fp, path, err))) return nullptr;
  if (a->qkv_->outputs() != n || a->qkv_->inputs() != c.d || a->o_->outputs() != c.d || a->o_->inputs() != qd) {
    *err = path + ": matrix shapes do not match the attention config";
    return nullptr;
  }
  char extra;
  if (std::fread(&extra, 1, 1, fp) != 0) {
    *err = path + " has trailing bytes";
    return nullptr;
  }
  return a;
}

// Cached positions a half cache is widened in at a time: keys or values of one piece stay in L1
// for the whole query group.
constexpr int kHalfPiece = 32;

static void widen(const Kernels* k, const uint16_t* h, int n, float* out) {
  if (k->halvesToFloats) return k->halvesToFloats(h, n, out);
  for (int i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
}

static void narrow(const Kernels* k, const float* f, int n, uint16_t* out) {
  if (k->floatsToHalves) return k->floatsToHalves(f, n, out);
  for (int i = 0; i < n; i++) out[i] = floatToHalf(f[i]);
}

// One (row, head) pair per task: scores over the row's visible slots (in the thread's own score
// row), softmax, weighted values.
struct AttentionJob {
  Attention* a;
  const Kernels* k;
  const AttentionStep* s;
  const float* qkv;
  float* out;
  float* scores;  // [threads][slots]
  float* pieces;  // half caches: [threads][kHalfPiece * hd + group * hd]
  int slots;
  std::atomic<int> next{0};

  // The group's scores over `visible` keys, as scoresGroup (or scores) gives them.
  void scoreAll(const float* q, int group, const void* keys, int visible, float scale, float* sc, float* piece) const {
    const int hd = a->c_.headDim;
    const auto over = [&](const float* kf, int n, float* out) {
      if (k->scoresGroup) return k->scoresGroup(q, group, kf, hd, n, scale, out, slots);
      for (int g = 0; g < group; g++) k->scores(q + (int64_t)g * hd, kf, hd, n, scale, out + (int64_t)g * slots);
    };
    if (!s->halfKv) return over(static_cast<const float*>(keys), visible, sc);
    const uint16_t* kh = static_cast<const uint16_t*>(keys);
    for (int t0 = 0; t0 < visible; t0 += kHalfPiece) {
      const int n = visible - t0 < kHalfPiece ? visible - t0 : kHalfPiece;
      widen(k, kh + (int64_t)t0 * hd, n * hd, piece);
      over(piece, n, sc + t0);
    }
  }

  // out[g] = Σ p_g[t]·values[t] for the group's probabilities.
  void mixAll(const float* sc, int group, const void* values, int visible, float* out, float* piece) const {
    const int hd = a->c_.headDim;
    const auto over = [&](const float* p, const float* vf, int n, float* o) {
      if (k->mixGroup) return k->mixGroup(p, group, slots, vf, hd, n, o);
      for (int g = 0; g < group; g++) k->mix(p + (int64_t)g * slots, vf, hd, n, o + (int64_t)g * hd);
    };
    if (!s->halfKv) return over(sc, static_cast<const float*>(values), visible, out);
    const uint16_t* vh = static_cast<const uint16_t*>(values);
    float* partial = piece + (int64_t)kHalfPiece * hd;
    for (int t0 = 0; t0 < visible; t0 += kHalfPiece) {
      const int n = visible - t0 < kHalfPiece ? visible - t0 : kHalfPiece;
      widen(k, vh + (int64_t)t0 * hd, n * hd, piece);
      if (t0 == 0) {
        over(sc, piece, n, out);
        continue;
      }
      over(sc + t0, piece, n, partial);
      for (int64_t i = 0; i < (int64_t)group * hd; i++) out[i] += partial[i];
    }
  }

  static void work(void* p, int thread) {
    AttentionJob& j = *static_cast<AttentionJob*>(p);
    const AttentionConfig& c = j.a->c_;
    const AttentionStep& s = *j.s;
    const int hd = c.headDim, group = c.heads / c.kvHeads, tasks = s.rows * c.kvHeads;
    const int64_t n = j.a->qkv_->outputs(), qd = (int64_t)c.heads * hd;
    const float scale = c.scale > 0 ? c.scale : 1.0f / std::sqrt((float)hd);
    // One task per (row, KV head): the `group` query heads that share the KV head together, so
    // each cached key and value is read once for all of them.
    for (int t; (t = j.next.fetch_add(1)) < tasks;) {
      const int row = t / c.kvHeads, kvh = t % c.kvHeads, h0 = kvh * group;
      // A sliding window keeps the row's last `window` slots (itself included).
      const int end = s.cached + row + 1, first = c.window > 0 && end > c.window ? end - c.window : 0;
      const int visible = end - first;
      const float* q = j.qkv + (int64_t)row * n + (int64_t)h0 * hd;
      const int64_t at = ((int64_t)kvh * s.capacity + first) * hd * s.kvValueBytes();
      const void* keys = static_cast<const char*>(s.key) + at;
      const void* values = static_cast<const char*>(s.value) + at;
      float* sc = j.scores + (int64_t)thread * group * j.slots;
      float* piece = j.pieces ? j.pieces + (int64_t)thread * (kHalfPiece + group) * hd : nullptr;
      float* out = j.out + (int64_t)row * qd + (int64_t)h0 * hd;
      j.scoreAll(q, group, keys, visible, scale, sc, piece);
      for (int g = 0; g < group; g++) j.k->softmax(sc + (int64_t)g * j.slots, visible);
      j.mixAll(sc, group, values, visible, out, piece);
    }
  }
};

const char* Attention::run(const Kernels* k, int threads, const AttentionStep& s) {
  const AttentionConfig& c = c_;
  const int hd = c.headDim, half = hd / 2;
  const int64_t qd = (int64_t)c.heads * hd, kvd = (int64_t)c.kvHeads * hd, n = qkv_->outputs();
  if (s.rows < 1 || s.rows > kMaxRows) return "rows must be between 1 and 64";
  if (s.cached < 0 || s.cached + s.rows > s.capacity) return "the KV cache has no room for these rows";
  for (int r = 0; r < s.rows; r++)
    if (s.positions[r] < 0 || s.positions[r] >= s.tablePositions) return "a position is outside the rotary table";
  ScratchLease scratch;
  const int slots = s.cached + s.rows, poolThreads = threads < 1 ? 1 : threads > kMaxThreads ? kMaxThreads : threads;
  float* normed = scratch->floats(Scratch::kNormed, (size_t)s.rows * c.d);
  float* qkvOut = scratch->floats(Scratch::kQkv, (size_t)s.rows * n);
  float* attnOut = scratch->floats(Scratch::kAttnOut, (size_t)s.rows * qd);
  float* oOut = scratch->floats(Scratch::kOOut, (size_t)s.rows * c.d);
  const int group = c.heads / c.kvHeads;
  float* scores = scratch->floats(Scratch::kScores, (size_t)poolThreads * group * slots);
  float* pieces = s.halfKv ? scratch->floats(Scratch::kKvPieces, (size_t)poolThreads * (kHalfPiece + group) * hd) : nullptr;
  if (!normed || !qkvOut || !attnOut || !oOut || !scores || (s.halfKv && !pieces))
    return "out of memory for attention scratch";
  ActivationRows& xq = scratch->rows(Scratch::kInputRows);
  for (int r = 0; r < s.rows; r++) rmsNorm(s.x + (int64_t)r * c.d, attnNorm_.get(), c.d, c.eps, normed + (int64_t)r * c.d);
  if (!xq.quantize(k, qkv_->layout(), normed, s.rows, c.d)) return "the hidden state contains NaN or infinity";
  qkv_->multiply(k, threads, xq, s.rows, qkvOut);
  for (int r = 0; r < s.rows; r++) {
    float* v = qkvOut + (int64_t)r * n;
    if (bias_) for (int64_t i = 0; i < n; i++) v[i] += bias_[i];
    if (qNorm_) {
      for (int h = 0; h < c.heads; h++) rmsNorm(v + (int64_t)h * hd, qNorm_.get(), hd, c.eps, v + (int64_t)h * hd);
      for (int h = 0; h < c.kvHeads; h++)
        rmsNorm(v + qd + (int64_t)h * hd, kNorm_.get(), hd, c.eps, v + qd + (int64_t)h * hd);
    }
    const float* cs = s.cos + (int64_t)s.positions[r] * half;
    const float* sn = s.sin + (int64_t)s.positions[r] * half;
    rotate(v, c.heads, hd, cs, sn, c.interleaved != 0);
    rotate(v + qd, c.kvHeads, hd, cs, sn, c.interleaved != 0);
    const int slot = s.cached + r;
    for (int h = 0; h < c.kvHeads; h++) {
      const int64_t at = ((int64_t)h * s.capacity + slot) * hd;
      const float* key = v + qd + (int64_t)h * hd;
      const float* value = v + qd + kvd + (int64_t)h * hd;
      if (s.halfKv) {
        narrow(k, key, hd, static_cast<uint16_t*>(s.key) + at);
        narrow(k, value, hd, static_cast<uint16_t*>(s.value) + at);
      } else {
        std::memcpy(static_cast<float*>(s.key) + at, key, sizeof(float) * hd);
        std::memcpy(static_cast<float*>(s.value) + at, value, sizeof(float) * hd);
      }
    }
  }
  AttentionJob job;
  job.a = this, job.k = k, job.s = &s, job.qkv = qkvOut, job.out = attnOut, job.scores = scores, job.pieces = pieces;
  job.slots = slots;
  // Sized by the larger of its multiply-adds and the cached keys and values it streams (threadsFor
  // counts one int8 weight byte per multiply-add): a decode row does few multiply-adds per byte,
  // and on one core it read a 7B model's cache at half the bus's speed.
  const double flops = 2.0 * s.rows * c.heads * (double)slots * hd;
  const double kvBytes = 2.0 * s.kvValueBytes() * s.rows * c.kvHeads * (double)slots * hd;
  Pool::instance().run(threadsFor(flops > kvBytes ? flops : kvBytes, poolThreads), AttentionJob::work, &job);
  if (!xq.quantize(k, o_->layout(), attnOut, s.rows, qd)) return "attention produced NaN or infinity";
  o_->multiply(k, threads, xq, s.rows, oOut);
  for (int r = 0; r < s.rows; r++) {
    float* res = s.residual + (int64_t)r * c.d;
    const float* x = s.x + (int64_t)r * c.d;
    float* o = oOut + (int64_t)r * c.d;
    if (postNorm_) rmsNorm(o, postNorm_.get(), c.d, c.eps, o);
    for (int i = 0; i < c.d; i++) res[i] = x[i] + o[i];
    rmsNorm(res, ffnNorm_.get(), c.d, c.eps, s.ffnIn + (int64_t)r * c.d);
  }
  return nullptr;
}

}  // namespace exl
