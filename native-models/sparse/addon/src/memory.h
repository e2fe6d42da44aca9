// Aligned buffers for weights and scratch (64-byte rows; 2 MiB for large weight blocks so Linux
// can back them with huge pages).
#pragma once
#include <cstddef>
#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace exl {

inline void* alignedAlloc(size_t bytes, size_t align) {
#if defined(_WIN32)
  return _aligned_malloc(bytes, align);
#else
  void* p = nullptr;
  return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
#endif
}

// A weight buffer: 2 MiB aligned when it is that large, and marked for transparent huge pages
// (Linux gives them only to marked memory by default). Streaming 4 GB of weights through 4 KiB
// pages costs a TLB miss every 64 cache lines. `bytes` is rounded up to the alignment.
inline void* weightAlloc(size_t& bytes) {
  const size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
  bytes = (bytes + align - 1) / align * align;
  void* p = alignedAlloc(bytes, align);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p && align == (2u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

inline void alignedFree(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  free(p);
#endif
}

}  // namespace exl
