#include "pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define EXL_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define EXL_PAUSE() __asm__ __volatile__("yield")
#else
#define EXL_PAUSE() ((void)0)
#endif

namespace exl {

namespace {
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Pool& Pool::instance() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when Node tears the addon down; the OS reclaims the threads.
  static Pool* pool = new Pool();
  return *pool;
}

Pool::~Pool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(sleepMutex_);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

int Pool::workers() const {
  std::lock_guard<std::mutex> lock(sleepMutex_);
  return (int)threads_.size();
}

void Pool::ensureWorkers(int n) {
  std::lock_guard<std::mutex> lock(sleepMutex_);
  while ((int)threads_.size() < n) {
    const int slot = (int)threads_.size() + 1;
    threads_.emplace_back([this, slot] { workerLoop(slot); });
  }
}

void Pool::run(int threads, Fn fn, void* ctx) {
  std::lock_guard<std::mutex> runLock(runMutex_);
  if (threads <= 1) {
    fn(ctx, 0);
    return;
  }
  ensureWorkers(threads - 1);
  fn_ = fn;
  ctx_ = ctx;
  jobThreads_ = threads;
  jobId_++;
  state_.store(0, std::memory_order_release);  // open: workers may enter
  {
    std::lock_guard<std::mutex> lock(sleepMutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  fn(ctx, 0);
  // Close the job, then wait only for the workers that entered it.
  state_.fetch_or(kClosed, std::memory_order_acq_rel);
  while ((state_.load(std::memory_order_acquire) & ~kClosed) != 0) EXL_PAUSE();
  // Workers that missed the job were woken but not scheduled in time: other processes hold the
  // cores. Spinning then only takes time from the caller, so workers sleep at once until they
  // keep up again.
  const bool missed = joined_.exchange(0, std::memory_order_relaxed) < threads - 1;
  missRate_ = 0.95 * missRate_ + (missed ? 0.05 : 0.0);
  contended_.store(missRate_ > 0.2, std::memory_order_relaxed);
  lastParallelEndNs_.store(nowNs(), std::memory_order_relaxed);
}

bool Pool::workersSpinning() const {
  if (contended_.load(std::memory_order_relaxed)) return false;
  return nowNs() - lastParallelEndNs_.load(std::memory_order_relaxed) < (int64_t)spinUs_.load() * 1000;
}

void Pool::workerLoop(int slot) {
  uint64_t seen = generation_.load();
  uint64_t lastJob = 0;
  for (;;) {
    // Spin briefly for the next job (cheap wake-up when calls come back to back), then sleep.
    const int spin = contended_.load(std::memory_order_relaxed) ? 0 : spinUs_.load();
    const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(spin);
    while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < spinUntil) {
      for (int i = 0; i < 64; i++) EXL_PAUSE();
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(sleepMutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    // Enter only if the job is still open.
    uint32_t s = state_.load(std::memory_order_acquire);
    bool entered = false;
    while (!(s & kClosed)) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) {
        entered = true;
        break;
      }
    }
    if (!entered) continue;
    if (slot < jobThreads_ && jobId_ != lastJob) {
      lastJob = jobId_;
      joined_.fetch_add(1, std::memory_order_relaxed);
      fn_(ctx_, slot);
    }
    state_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace exl
