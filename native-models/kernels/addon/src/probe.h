#pragma once
#include <cstddef>

namespace exl {
// Best-of-`reps` read bandwidth in GB/s over a fresh `bytes` buffer on `threads` pool threads.
double probeReadBandwidth(size_t bytes, int threads, int reps);
}  // namespace exl
