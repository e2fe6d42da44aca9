// A small persistent thread pool for one parallel region per call (no per-call thread creation).
//
// Workers wait for a new job by spinning for `spinUs` microseconds and then sleeping on a
// condition variable, so they do not burn cores between calls for long. When workers keep missing
// jobs (other processes hold the cores), they stop spinning until they keep up again. The calling thread always takes part, so a job with
// `threads` = n wakes n-1 workers. A worker that wakes after the caller has finished all the work
// does not join at all: the caller closes the job instead of waiting for late wakers, which
// matters on a busy machine where a worker may be descheduled.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace exl {

constexpr int kMaxThreads = 64;

class Pool {
 public:
  using Fn = void (*)(void* ctx, int slot);

  static Pool& instance();
  ~Pool();

  // Runs fn(ctx, slot) on up to `threads` threads (slot 0 = caller) and returns when every
  // thread that entered has left. Calls are serialised.
  void run(int threads, Fn fn, void* ctx);
  void setSpinMicros(int us) { spinUs_.store(us < 0 ? 0 : us); }
  int spinMicros() const { return spinUs_.load(); }
  int workers() const;
  // Whether workers are likely still spinning from the last parallel job (it ended within the
  // spin time, and jobs are not being missed): then waking them costs little.
  bool workersSpinning() const;

 private:
  Pool() = default;
  void ensureWorkers(int n);
  void workerLoop(int slot);

  static constexpr uint32_t kClosed = 1u << 31;
  std::mutex runMutex_;           // one job at a time
  mutable std::mutex sleepMutex_;  // guards sleeping workers and the worker list
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint32_t> state_{kClosed};  // kClosed | number of workers inside the current job
  std::atomic<int> spinUs_{0};
  // Workers that entered the current job, and how often jobs were missed lately (caller only).
  std::atomic<int> joined_{0};
  double missRate_ = 0;
  std::atomic<bool> contended_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> lastParallelEndNs_{INT64_MIN / 2};  // steady clock
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int jobThreads_ = 0;
  uint64_t jobId_ = 0;  // a worker runs each job at most once, even if it wakes late and re-enters
};

}  // namespace exl
