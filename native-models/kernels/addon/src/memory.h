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

// A weight buffer: 2 MiB aligned when it is that large, its whole 2 MiB pages marked for
// transparent huge pages (Linux gives them only to marked memory by default): streaming 4 GB of
// weights through 4 KiB pages costs a TLB miss every 64 cache lines. The tail stays in small
// pages, so no buffer takes more memory than it uses (rounding ~110 matrices up to whole huge
// pages added 77 MB of RSS on TinyLlama).
inline void* weightAlloc(size_t bytes) {
  constexpr size_t kHuge = 2u << 20;
  void* p = alignedAlloc(bytes, bytes >= kHuge ? kHuge : 64);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p && bytes >= kHuge) madvise(p, bytes / kHuge * kHuge, MADV_HUGEPAGE);
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
