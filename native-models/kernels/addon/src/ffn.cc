#include "ffn.h"

#include <algorithm>
#include "scratch.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "memory.h"
#include "pool.h"
#include "quantize.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace exl {
namespace {

bool cpuHas(const char* feature) {
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
  __builtin_cpu_init();
  if (!std::strcmp(feature, "avx512")) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
  }
  if (!std::strcmp(feature, "avx2")) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }
#endif
#if defined(__aarch64__)
  if (!std::strcmp(feature, "neon")) return true;  // Advanced SIMD is mandatory on AArch64
  if (!std::strcmp(feature, "neon-dotprod")) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
#elif defined(__APPLE__)
    int v = 0;
    size_t size = sizeof v;
    return sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &size, nullptr, 0) == 0 && v;
#else
    return false;
#endif
  }
#endif
  return false;
}

// Neurons whose gate rows are evaluated before their up/down rows: up and down rows then go to the
// kernels four at a time (one accumulator pass per four down rows) down to ~12% active neurons.
// Also the unit of work when quantizing at creation.
constexpr int kChunk = 32;



}  // namespace

const Kernels* selectKernels(const std::string& isa, std::string* err) {
  const Kernels* k = nullptr;
  if (isa == "auto") {
    if (cpuHas("avx512")) k = amxKernels();
    if (!k && cpuHas("avx512")) k = avx512Kernels();
    if (!k && cpuHas("avx2")) k = avx2Kernels();
    if (!k && cpuHas("neon-dotprod")) k = neonDotKernels();
    if (!k && cpuHas("neon")) k = neonKernels();
    return k ? k : scalarKernels();
  }
  if (isa == "scalar") return scalarKernels();
  if (isa == "amx") k = cpuHas("avx512") ? amxKernels() : nullptr;
  else if (isa == "avx512") k = cpuHas("avx512") ? avx512Kernels() : nullptr;
  else if (isa == "avx2") k = cpuHas("avx2") ? avx2Kernels() : nullptr;
  else if (isa == "neon-dotprod") k = cpuHas("neon-dotprod") ? neonDotKernels() : nullptr;
  else if (isa == "neon") k = cpuHas("neon") ? neonKernels() : nullptr;
  else {
    *err = "isa must be one of auto, amx, avx512, avx2, neon-dotprod, neon, scalar (got \"" + isa + "\")";
    return nullptr;
  }
  if (!k) *err = "kernel set \"" + isa + "\" is not available on this CPU/build (available: " + availableKernels() + ")";
  return k;
}

std::string availableKernels() {
  std::string s;
  if (cpuHas("avx512") && amxKernels()) s += std::string(amxKernels()->name) + ",";
  if (cpuHas("avx512") && avx512Kernels()) s += std::string(avx512Kernels()->name) + ",";
  if (cpuHas("avx2") && avx2Kernels()) s += std::string(avx2Kernels()->name) + ",";
  if (cpuHas("neon-dotprod") && neonDotKernels()) s += std::string(neonDotKernels()->name) + ",";
  if (cpuHas("neon") && neonKernels()) s += std::string(neonKernels()->name) + ",";
  return s + "scalar";
}

Ffn::~Ffn() {
  alignedFree(w_);
  for (float* a : acc_) alignedFree(a);
  for (float* k : kscratch_) alignedFree(k);
}

bool Ffn::allocate(const Layout& L, std::string* err) {
  L_ = L;
  // Huge pages matter even more here: a sparse pass touches rows all over the buffer.
  w_ = static_cast<uint8_t*>(weightAlloc(L.totalBytes));
  if (!w_) {
    *err = "out of memory allocating " + std::to_string(L.totalBytes) + " bytes of FFN weights";
    return false;
  }
  return true;
}

// Row i's grid scales where the rows' bits hold the grid (the rows have one width for all three
// matrices, and no Q4_K form: those rows are quantized from the values).
static const float* rowGrid(const BlockGrid& g, const Layout& L, int64_t i) {
  return g.bitsOr(L.bits) == L.bits ? g.at(i, 0) : nullptr;
}

struct QuantJob {
  Ffn* f;
  const float *gate, *up, *down;
  FfnGrids grids;
  std::atomic<int> next{0};
  std::atomic<bool> bad{false};
  static void work(void* p, int slot);
};

void QuantJob::work(void* p, int) {
  QuantJob& j = *static_cast<QuantJob*>(p);
  const Layout& L = j.f->L_;
  for (int c; (c = j.next.fetch_add(1)) * kChunk < L.ffn;) {
    const int i1 = (c + 1) * kChunk < L.ffn ? (c + 1) * kChunk : L.ffn;
    for (int i = c * kChunk; i < i1; i++) {
      uint8_t* w = j.f->w_;
      bool ok = quantizeRow(L, j.gate + (size_t)i * L.d, 1, w + L.rowOffset(0, i), rowGrid(j.grids.gate, L, i));
      ok = quantizeRow(L, j.up + (size_t)i * L.d, 1, w + L.rowOffset(1, i), rowGrid(j.grids.up, L, i)) && ok;
      // Column i of W_down [d, ffn]: neighbouring neurons share cache lines, so walking neurons in
      // order keeps the strided reads in cache.
      ok = quantizeRow(L, j.down + i, L.ffn, w + L.rowOffset(2, i)) && ok;
      if (!ok) j.bad.store(true);
    }
  }
}

std::unique_ptr<Ffn> Ffn::create(const Layout& L, const float* gate, const float* up, const float* down, int threads,
                                 std::string* err, const FfnGrids& grids) {
  const char* e = grids.gate.check(L.d, L.block);
  if (!e) e = grids.up.check(L.d, L.block);
  if (e) {
    *err = e;
    return nullptr;
  }
  std::unique_ptr<Ffn> f(new Ffn());
  if (!f->allocate(L, err)) return nullptr;
  // Row padding bytes must be deterministic: saved files are compared byte for byte.
  std::memset(f->w_, 0, L.totalBytes);
  QuantJob job;
  job.f = f.get(), job.gate = gate, job.up = up, job.down = down, job.grids = grids;
  Pool::instance().run(threads, QuantJob::work, &job);
  if (job.bad.load()) {
    *err = grids.gate.scales || grids.up.scales
               ? "weights contain a value off their block grid (or not finite)"
               : "weights contain a non-finite value or a block scale beyond the fp16 range";
    return nullptr;
  }
  return f;
}

std::unique_ptr<Ffn> Ffn::createDense(const Layout& L, const float* gate, const float* up, const float* down,
                                      int threads, std::string* err, const FfnGrids& grids) {
  std::unique_ptr<Ffn> f(new Ffn());
  f->L_ = L;
  if (!(f->gate_ = Matrix::create(L.ffn, L.d, L.bits, L.block, gate, threads, err, grids.gate)) ||
      !(f->up_ = Matrix::create(L.ffn, L.d, L.bits, L.block, up, threads, err, grids.up)) ||
      !(f->down_ = Matrix::create(L.d, L.ffn, L.bits, L.block, down, threads, err, grids.down)))
    return nullptr;
  // A grid may have widened a matrix (a Q5_0 gate in a 4-bit model): the header's bits are the
  // widest, which rows made from this form then use (rows have 4 or 8 bits: 5- and 6-bit codes
  // take 8 there).
  const auto rowBits = [](const Matrix& m) { return m.bits() == 4 ? 4 : 8; };
  const int wide = std::max({rowBits(*f->gate_), rowBits(*f->up_), rowBits(*f->down_)});
  if (wide != L.bits) {
    if (const char* e = makeLayout(L.d, L.ffn, wide, L.block, L.order, &f->L_)) {
      *err = e;
      return nullptr;
    }
    f->L_.activation = L.activation;
  }
  return f;
}

struct RunJob {
  Ffn* f;
  const Kernels* k;
  float threshold;
  bool dense;
  float* acts;
  int stripes, rows;
  std::atomic<int> next{0};
  int active[kStripes] = {};
  static void work(void* p, int slot);
  void stripe(int s, int slot, int nextStripe);
};

void RunJob::work(void* p, int slot) {
  RunJob& j = *static_cast<RunJob*>(p);
  // Stripes are claimed one ahead so the end of one can prefetch the start of the next.
  int s = j.next.fetch_add(1, std::memory_order_relaxed);
  while (s < j.stripes) {
    const int sn = j.next.fetch_add(1, std::memory_order_relaxed);
    j.stripe(s, slot, sn);
    s = sn;
  }
}

// Neurons [ffn*s/stripes, ffn*(s+1)/stripes) into acc_[s], in chunks of kChunk: gate rows of the
// chunk, the CATS test, then up and down rows of the active neurons, four rows per kernel call.
// With several rows, each chunk is done for every row while its weights are in cache; a row's
// arithmetic is the same as when it runs alone.
void RunJob::stripe(int s, int slot, int nextStripe) {
  const Layout& L = f->L_;
  const uint8_t* w = f->w_;
  float* ks = f->kscratch_[slot];
  for (int row = 0; row < rows; row++) std::memset(f->acc_[s] + (size_t)row * L.dp, 0, sizeof(float) * L.dp);
  const int begin = (int)((int64_t)L.ffn * s / stripes), end = (int)((int64_t)L.ffn * (s + 1) / stripes);
  float g[kChunk], a[kChunk], u[kChunk];
  int idx[kChunk], neurons[kChunk];
  const uint8_t* rowPtrs[4];
  // Rows `which` of neurons list[from..), at most 4, as the prefetch set for the next kernel call.
  auto group = [&](int which, const int* list, int from, int n) {
    Prefetch pf{{}, 0};
    for (; pf.n < 4 && from + pf.n < n; pf.n++) pf.rows[pf.n] = w + L.rowOffset(which, list[from + pf.n]);
    return pf;
  };
  int total = 0;
  for (int i0 = begin; i0 < end; i0 += kChunk) {
    const int n = end - i0 < kChunk ? end - i0 : kChunk;
    for (int r = 0; r < n; r++) neurons[r] = i0 + r;
    // What follows this chunk: the next chunk of the stripe, or the start of the next stripe.
    Prefetch after{{}, 0};
    const int nextStart = i0 + n < end ? i0 + n : nextStripe < stripes ? (int)((int64_t)L.ffn * nextStripe / stripes) : -1;
    for (; nextStart >= 0 && after.n < 4 && nextStart + after.n < L.ffn; after.n++)
      after.rows[after.n] = w + L.rowOffset(0, nextStart + after.n);
    for (int row = 0; row < rows; row++) {
      const XQuant& xq = f->xq_.row(row);
      float* acc = f->acc_[s] + (size_t)row * L.dp;
      int na = 0;
      for (int r = 0; r < n; r += 4) {
        const int m = n - r < 4 ? n - r : 4;
        for (int q = 0; q < m; q++) rowPtrs[q] = w + L.rowOffset(0, i0 + r + q);
        k->dot(L, rowPtrs, m, xq, g + r, r + 4 < n ? group(0, neurons, r + 4, n) : after);
        for (int q = r; q < r + m; q++) {
          const float act = activate(g[q], L.activation);
          if (acts) acts[i0 + q] = act;
          if (dense || std::fabs(act) > threshold) idx[na] = i0 + q, a[na++] = act;
        }
      }
      for (int r = 0; r < na; r += 4) {
        const int m = na - r < 4 ? na - r : 4;
        for (int q = 0; q < m; q++) rowPtrs[q] = w + L.rowOffset(1, idx[r + q]);
        k->dot(L, rowPtrs, m, xq, u + r, r + 4 < na ? group(1, idx, r + 4, na) : group(2, idx, 0, na));
      }
      for (int r = 0; r < na; r++) u[r] *= a[r];
      for (int r = 0; r < na; r += 4) {
        const int m = na - r < 4 ? na - r : 4;
        for (int q = 0; q < m; q++) rowPtrs[q] = w + L.rowOffset(2, idx[r + q]);
        k->axpy(L, rowPtrs, u + r, m, acc, ks, r + 4 < na ? group(2, idx, r + 4, na) : after);
      }
      total += na;
    }
  }
  active[s] = total;
}

int Ffn::run(const Kernels* k, int threads, const float* x, float* out, float threshold, float* acts) {
  return runRows(k, threads, 1, x, out, threshold, acts);
}

namespace {
// Value of element e of a row in the row layout.
float rowValue(const Layout& L, const uint8_t* row, int e) {
  const int b = e / L.block;
  const float scale = halfToFloat(reinterpret_cast<const uint16_t*>(row + L.scalesOffset)[b]);
  if (L.bits == 8) return ((int)row[e] - 128) * scale;
  const uint8_t byte = row[((e & ~63) >> 1) + (e & 31)];
  const int code = (e & 63) < 32 ? (byte & 15) : (byte >> 4);
  return (code - (int)row[L.zpOffset + b]) * scale;
}
}  // namespace

void Ffn::dequantize(int which, float* out) const {
  if (hasDense()) return (which == 0 ? gate_ : which == 1 ? up_ : down_)->dequantize(out);
  const int64_t d = L_.d, f = L_.ffn;
  for (int64_t i = 0; i < f; i++)
    for (int64_t e = 0; e < d; e++) {
      const float v = rowValue(L_, w_ + L_.rowOffset(which, i), (int)e);
      if (which == 2) out[e * f + i] = v;  // down_i is column i of W_down
      else out[i * d + e] = v;
    }
}

bool Ffn::packDense(int threads, bool releaseRows, std::string* err) {
  const int64_t d = L_.d, f = L_.ffn;
  std::unique_ptr<float[]> gate(new (std::nothrow) float[d * f]), up(new (std::nothrow) float[d * f]), down(new (std::nothrow) float[d * f]);
  if (!w_) {
    *err = "the FFN's rows were released";
    return false;
  }
  if (!gate || !up || !down) {
    *err = "out of memory packing the FFN";
    return false;
  }
  for (int64_t i = 0; i < f; i++) {
    const uint8_t *g = w_ + L_.rowOffset(0, i), *u = w_ + L_.rowOffset(1, i), *dn = w_ + L_.rowOffset(2, i);
    for (int64_t e = 0; e < d; e++) {
      gate[i * d + e] = rowValue(L_, g, (int)e);
      up[i * d + e] = rowValue(L_, u, (int)e);
      down[e * f + i] = rowValue(L_, dn, (int)e);  // down_i is column i of W_down
    }
  }
  if (!(gate_ = Matrix::create(f, d, L_.bits, L_.block, gate.get(), threads, err)) ||
      !(up_ = Matrix::create(f, d, L_.bits, L_.block, up.get(), threads, err)) ||
      !(down_ = Matrix::create(d, f, L_.bits, L_.block, down.get(), threads, err))) {
    gate_.reset(), up_.reset(), down_.reset();
    return false;
  }
  if (releaseRows) {
    alignedFree(w_);
    w_ = nullptr;
  }
  return true;
}

int Ffn::runDense(const Kernels* k, int threads, int rows, const float* x, float* out) {
  const int64_t f = L_.ffn;
  ScratchLease scratch;
  float* h = scratch->floats(Scratch::kGate, (size_t)rows * f);
  float* u = scratch->floats(Scratch::kUp, (size_t)rows * f);
  if (!h || !u) return -1;
  ActivationRows& xq = scratch->rows(Scratch::kInputRows);
  ActivationRows& hq = scratch->rows(Scratch::kHiddenRows);
  if (!xq.quantize(k, gate_->layout(), x, rows, L_.d)) return -2;
  gate_->multiply(k, threads, xq, rows, h);
  if (up_->layout().xGroup == gate_->layout().xGroup) {
    up_->multiply(k, threads, xq, rows, u);
  } else {  // the two quantize x differently (one from a file's K-quant blocks): hq is free until the down pass
    if (!hq.quantize(k, up_->layout(), x, rows, L_.d)) return -2;
    up_->multiply(k, threads, hq, rows, u);
  }
  if (L_.activation == 0) {
    k->siluMul(h, u, (int64_t)rows * f);  // SiLU(gate) ⊙ up
  } else {
    for (int64_t i = 0; i < (int64_t)rows * f; i++) h[i] = activate(h[i], L_.activation) * u[i];
  }
  if (!hq.quantize(k, down_->layout(), h, rows, f)) return -2;
  down_->multiply(k, threads, hq, rows, out);
  return (int)(rows * f);
}

int Ffn::runRows(const Kernels* k, int threads, int rows, const float* x, float* out, float threshold, float* acts) {
  if (rows < 1 || rows > kMaxRows) return -1;
  if (threshold <= 0 && !acts && gate_) return runDense(k, threads, rows, x, out);
  if (!w_) return kRowsReleased;
  threads = threads < 1 ? 1 : threads > kMaxThreads ? kMaxThreads : threads;
  const int stripes = L_.ffn < kStripes * kChunk ? (L_.ffn + kChunk - 1) / kChunk : kStripes;
  if (rows > accRows_) {  // grow every stripe's accumulators to `rows` rows
    for (float*& a : acc_) {
      alignedFree(a);
      a = nullptr;
    }
    accRows_ = rows;
  }
  for (int s = 0; s < stripes; s++) {
    if (!acc_[s] && !(acc_[s] = static_cast<float*>(alignedAlloc(sizeof(float) * L_.dp * accRows_, 64)))) return -1;
  }
  for (int t = 0; t < threads; t++) {
    const size_t bytes = (5 * (size_t)L_.kb * sizeof(float) + 63) / 64 * 64;
    if (!kscratch_[t] && !(kscratch_[t] = static_cast<float*>(alignedAlloc(bytes, 64)))) return -1;
  }
  if (!xq_.quantize(k, L_, x, rows, L_.d)) return -2;
  RunJob job;
  job.f = this, job.k = k, job.threshold = threshold, job.dense = threshold <= 0, job.acts = rows == 1 ? acts : nullptr;
  job.stripes = stripes, job.rows = rows;
  Pool::instance().run(threads < stripes ? threads : stripes, RunJob::work, &job);
  int active = 0;
  for (int s = 0; s < stripes; s++) active += job.active[s];
  for (int row = 0; row < rows; row++) {
    float* o = out + (size_t)row * L_.d;
    std::memcpy(o, acc_[0] + (size_t)row * L_.dp, sizeof(float) * L_.d);
    for (int s = 1; s < stripes; s++) {
      const float* a = acc_[s] + (size_t)row * L_.dp;
      for (int i = 0; i < L_.d; i++) o[i] += a[i];
    }
  }
  return active;
}

}  // namespace exl
