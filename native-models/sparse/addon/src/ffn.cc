#include "ffn.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pool.h"
#include "quantize.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
#endif

namespace exl {
namespace {

void* alignedAlloc(size_t bytes, size_t align) {
#if defined(_WIN32)
  return _aligned_malloc(bytes, align);
#else
  void* p = nullptr;
  return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
#endif
}

void alignedFree(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  free(p);
#endif
}

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
#endif
  return false;
}

// Neurons per unit of work handed out to threads: small enough to balance two threads when one is
// descheduled by another process, large enough that the shared counter is touched rarely.
constexpr int kChunk = 32;
// Neurons whose gate is evaluated before their up/down rows: 8 gives ~4 active rows per axpy at
// 50% sparsity, so the accumulator is loaded and stored once per ~4 rows.
constexpr int kUnit = 8;

constexpr char kMagic[8] = {'E', 'X', 'L', 'S', 'F', 'F', 'N', '1'};
constexpr uint32_t kHeaderBytes = 64;
constexpr uint32_t kEndianMark = 0x01020304u;

struct FileHeader {
  char magic[8];
  uint32_t headerBytes, endianMark;
  int32_t d, ffn, bits, block, order, reserved;
  uint64_t totalBytes;
  uint8_t pad[16];
};
static_assert(sizeof(FileHeader) == kHeaderBytes, "header is 64 bytes so the weights stay aligned");

}  // namespace

const Kernels* selectKernels(const std::string& isa, std::string* err) {
  const Kernels* k = nullptr;
  if (isa == "auto") {
    if (cpuHas("avx512")) k = avx512Kernels();
    if (!k && cpuHas("avx2")) k = avx2Kernels();
    if (!k && cpuHas("neon")) k = neonKernels();
    return k ? k : scalarKernels();
  }
  if (isa == "scalar") return scalarKernels();
  if (isa == "avx512") k = cpuHas("avx512") ? avx512Kernels() : nullptr;
  else if (isa == "avx2") k = cpuHas("avx2") ? avx2Kernels() : nullptr;
  else if (isa == "neon") k = cpuHas("neon") ? neonKernels() : nullptr;
  else {
    *err = "isa must be one of auto, avx512, avx2, neon, scalar (got \"" + isa + "\")";
    return nullptr;
  }
  if (!k) *err = "kernel set \"" + isa + "\" is not available on this CPU/build (available: " + availableKernels() + ")";
  return k;
}

std::string availableKernels() {
  std::string s;
  if (cpuHas("avx512") && avx512Kernels()) s += std::string(avx512Kernels()->name) + ",";
  if (cpuHas("avx2") && avx2Kernels()) s += std::string(avx2Kernels()->name) + ",";
  if (cpuHas("neon") && neonKernels()) s += std::string(neonKernels()->name) + ",";
  return s + "scalar";
}

Ffn::~Ffn() {
  alignedFree(w_);
  alignedFree(scratch_);
  for (int i = 0; i < kMaxThreads; i++) alignedFree(acc_[i]);
}

bool Ffn::allocate(const Layout& L, std::string* err) {
  L_ = L;
  // 2 MiB alignment lets Linux back the weights with huge pages: a sparse pass touches rows all
  // over the buffer, and 4 KiB pages would cost a TLB miss on most of them.
  const size_t align = 2u << 20;
  const size_t bytes = (L.totalBytes + align - 1) / align * align;
  w_ = static_cast<uint8_t*>(alignedAlloc(bytes, align));
  if (!w_) {
    *err = "out of memory allocating " + std::to_string(bytes) + " bytes of FFN weights";
    return false;
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(w_, bytes, MADV_HUGEPAGE);
#endif
  // Activation scratch: q [dp] | corr8 [dp/4] int32 | sx [kb] | xsum [kb].
  const size_t sBytes = (size_t)L.dp * 2 + (size_t)L.kb * 8 + 64;
  scratch_ = static_cast<uint8_t*>(alignedAlloc((sBytes + 63) / 64 * 64, 64));
  if (!scratch_) {
    *err = "out of memory allocating FFN scratch";
    return false;
  }
  xq_.q = reinterpret_cast<int8_t*>(scratch_);
  xq_.corr8 = reinterpret_cast<int32_t*>(scratch_ + L.dp);
  xq_.sx = reinterpret_cast<float*>(scratch_ + 2 * (size_t)L.dp);
  xq_.xsum = xq_.sx + L.kb;
  return true;
}

struct QuantJob {
  Ffn* f;
  const float *gate, *up, *down;
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
      bool ok = quantizeRow(L, j.gate + (size_t)i * L.d, 1, w + L.rowOffset(0, i));
      ok = quantizeRow(L, j.up + (size_t)i * L.d, 1, w + L.rowOffset(1, i)) && ok;
      // Column i of W_down [d, ffn]: neighbouring neurons share cache lines, so walking neurons in
      // order keeps the strided reads in cache.
      ok = quantizeRow(L, j.down + i, L.ffn, w + L.rowOffset(2, i)) && ok;
      if (!ok) j.bad.store(true);
    }
  }
}

std::unique_ptr<Ffn> Ffn::create(const Layout& L, const float* gate, const float* up, const float* down, int threads,
                                 std::string* err) {
  std::unique_ptr<Ffn> f(new Ffn());
  if (!f->allocate(L, err)) return nullptr;
  // Row padding bytes must be deterministic: saved files are compared byte for byte.
  std::memset(f->w_, 0, L.totalBytes);
  QuantJob job;
  job.f = f.get(), job.gate = gate, job.up = up, job.down = down;
  Pool::instance().run(threads, QuantJob::work, &job);
  if (job.bad.load()) {
    *err = "weights contain a non-finite value or a block scale beyond the fp16 range";
    return nullptr;
  }
  return f;
}

bool Ffn::save(const std::string& path, std::string* err) const {
  FileHeader h{};
  std::memcpy(h.magic, kMagic, 8);
  h.headerBytes = kHeaderBytes;
  h.endianMark = kEndianMark;
  h.d = L_.d, h.ffn = L_.ffn, h.bits = L_.bits, h.block = L_.block, h.order = (int32_t)L_.order;
  h.totalBytes = L_.totalBytes;
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) {
    *err = "cannot open " + path + " for writing: " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(&h, sizeof h, 1, fp) == 1 && std::fwrite(w_, 1, L_.totalBytes, fp) == L_.totalBytes;
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) *err = "writing " + path + " failed: " + std::strerror(errno);
  return ok;
}

std::unique_ptr<Ffn> Ffn::load(const std::string& path, std::string* err) {
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) {
    *err = "cannot open " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  struct Closer {
    FILE* fp;
    ~Closer() { std::fclose(fp); }
  } closer{fp};
  FileHeader h{};
  if (std::fread(&h, sizeof h, 1, fp) != 1 || std::memcmp(h.magic, kMagic, 8) != 0) {
    *err = path + " is not a sparse FFN file (bad magic)";
    return nullptr;
  }
  if (h.endianMark != kEndianMark || h.headerBytes != kHeaderBytes) {
    *err = path + ": unsupported header (other byte order or version)";
    return nullptr;
  }
  Layout L{};
  if (h.order != 0 && h.order != 1) {
    *err = path + ": unknown row order";
    return nullptr;
  }
  if (const char* e = makeLayout(h.d, h.ffn, h.bits, h.block, (RowOrder)h.order, &L)) {
    *err = path + ": " + e;
    return nullptr;
  }
  if (L.totalBytes != h.totalBytes) {
    *err = path + ": weight size in the header does not match its shape";
    return nullptr;
  }
  std::unique_ptr<Ffn> f(new Ffn());
  if (!f->allocate(L, err)) return nullptr;
  if (std::fread(f->w_, 1, L.totalBytes, fp) != L.totalBytes) {
    *err = path + " is truncated";
    return nullptr;
  }
  char extra;
  if (std::fread(&extra, 1, 1, fp) != 0) {
    *err = path + " has trailing bytes after the weights";
    return nullptr;
  }
  return f;
}

struct RunJob {
  Ffn* f;
  const Kernels* k;
  float threshold;
  bool dense;
  float* acts;
  int threads;
  std::atomic<int> next{0};
  int active[kMaxThreads] = {};
  bool used[kMaxThreads] = {};
  static void work(void* p, int slot);
};

void RunJob::work(void* p, int slot) {
  RunJob& j = *static_cast<RunJob*>(p);
  const Layout& L = j.f->L_;
  const uint8_t* w = j.f->w_;
  const Kernels& k = *j.k;
  float* acc = j.f->acc_[slot];
  float* ks = j.f->kscratch_[slot];
  std::memset(acc, 0, sizeof(float) * L.dp);
  j.used[slot] = true;
  int active = 0;
  const uint8_t* rows[4];
  float g[kUnit], a[kUnit], u[kUnit];
  int idx[kUnit];
  for (int c; (c = j.next.fetch_add(1, std::memory_order_relaxed)) * kChunk < L.ffn;) {
    const int c1 = (c + 1) * kChunk < L.ffn ? (c + 1) * kChunk : L.ffn;
    for (int i0 = c * kChunk; i0 < c1; i0 += kUnit) {
      const int n = c1 - i0 < kUnit ? c1 - i0 : kUnit;
      for (int r = 0; r < n; r += 4) {
        const int m = n - r < 4 ? n - r : 4;
        for (int q = 0; q < m; q++) rows[q] = w + L.rowOffset(0, i0 + r + q);
        k.dot(L, rows, m, j.f->xq_, g + r);
      }
      int na = 0;
      for (int r = 0; r < n; r++) {
        const float act = g[r] / (1.0f + std::exp(-g[r]));  // SiLU
        if (j.acts) j.acts[i0 + r] = act;
        if (j.dense || std::fabs(act) > j.threshold) idx[na] = i0 + r, a[na++] = act;
      }
      for (int r = 0; r < na; r += 4) {
        const int m = na - r < 4 ? na - r : 4;
        for (int q = 0; q < m; q++) rows[q] = w + L.rowOffset(1, idx[r + q]);
        k.dot(L, rows, m, j.f->xq_, u + r);
      }
      for (int r = 0; r < na; r++) u[r] *= a[r];
      for (int r = 0; r < na; r += 4) {
        const int m = na - r < 4 ? na - r : 4;
        for (int q = 0; q < m; q++) rows[q] = w + L.rowOffset(2, idx[r + q]);
        k.axpy(L, rows, u + r, m, acc, ks);
      }
      active += na;
    }
  }
  j.active[slot] = active;
}

int Ffn::run(const Kernels* k, int threads, const float* x, float* out, float threshold, float* acts) {
  threads = threads < 1 ? 1 : threads > kMaxThreads ? kMaxThreads : threads;
  for (int s = 0; s < threads; s++) {
    if (acc_[s]) continue;
    // One block of [acc: dp floats | kernel scratch: 5*kb floats], cache-line aligned.
    const size_t bytes = ((size_t)L_.dp + 5 * (size_t)L_.kb) * sizeof(float);
    acc_[s] = static_cast<float*>(alignedAlloc((bytes + 63) / 64 * 64, 64));
    if (!acc_[s]) return -1;
    kscratch_[s] = acc_[s] + L_.dp;
  }
  quantizeActivation(L_, x, xq_);
  RunJob job;
  job.f = this, job.k = k, job.threshold = threshold, job.dense = threshold <= 0, job.acts = acts, job.threads = threads;
  Pool::instance().run(threads, RunJob::work, &job);
  int active = 0;
  std::memset(out, 0, sizeof(float) * L_.d);
  for (int s = 0; s < threads; s++) {
    if (!job.used[s]) continue;
    active += job.active[s];
    const float* a = acc_[s];
    for (int i = 0; i < L_.d; i++) out[i] += a[i];
  }
  return active;
}

}  // namespace exl
