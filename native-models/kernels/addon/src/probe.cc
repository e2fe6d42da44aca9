// Memory read bandwidth probe for the benchmark: streams a buffer with the same thread pool the
// kernels use, so "GB/s of the kernel" can be compared with "GB/s this machine gives now".
#include "probe.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "memory.h"
#include "pool.h"

namespace exl {
namespace {

struct ProbeJob {
  const uint64_t* data;
  size_t words;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> sink{0};
  static void work(void* p, int) {
    ProbeJob& j = *static_cast<ProbeJob*>(p);
    const size_t chunk = 1 << 15;  // 256 KiB per grab
    uint64_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
    for (size_t c; (c = j.next.fetch_add(chunk)) < j.words;) {
      const size_t end = c + chunk < j.words ? c + chunk : j.words;
      for (size_t i = c; i + 8 <= end; i += 8) {
        __builtin_prefetch(j.data + i + 128);  // 1 KiB ahead
        acc0 ^= j.data[i] + j.data[i + 4], acc1 += j.data[i + 1] ^ j.data[i + 5];
        acc2 ^= j.data[i + 2] + j.data[i + 6], acc3 += j.data[i + 3] ^ j.data[i + 7];
      }
    }
    j.sink.fetch_add(acc0 ^ acc1 ^ acc2 ^ acc3);
  }
};

}  // namespace

double probeReadBandwidth(size_t bytes, int threads, int reps) {
  const size_t words = bytes / 8;
  // Huge pages and a software prefetch ahead, as the kernels stream their weights: the probe
  // must not be slower than what the kernels (or llama.cpp) reach.
  uint64_t* buf = static_cast<uint64_t*>(weightAlloc(words * 8));
  if (!buf) return -1;
  for (size_t i = 0; i < words; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;
  double best = 0;
  for (int r = 0; r < reps; r++) {
    ProbeJob job;
    job.data = buf;
    job.words = words;
    const auto t0 = std::chrono::steady_clock::now();
    Pool::instance().run(threads, ProbeJob::work, &job);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gbs = (double)words * 8 / s / 1e9;
    best = gbs > best ? gbs : best;
  }
  alignedFree(buf);
  return best;
}

}  // namespace exl
