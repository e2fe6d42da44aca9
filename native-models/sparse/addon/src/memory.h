// Aligned buffers for weights and scratch (64-byte rows; 2 MiB for large weight blocks so Linux
// can back them with huge pages).
#pragma once
#include <cstddef>
#include <cstdlib>
#if defined(_WIN32)
#include <malloc.h>
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

inline void alignedFree(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  free(p);
#endif
}

}  // namespace exl
