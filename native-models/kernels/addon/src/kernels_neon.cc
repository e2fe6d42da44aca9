// Baseline NEON kernels for arm64 (Advanced SIMD is part of every AArch64 CPU).
#include "layout.h"

#if defined(__aarch64__) || defined(_M_ARM64)
#define EXL_NEON_DOT 0
#define EXL_NEON_NS neon_base
#include "kernels_neon_impl.h"

namespace exl {
namespace {
const Kernels kNeon = {"neon", neon_base::dot, neon_base::axpy, neon_base::scores, neon_base::mix, nullptr, nullptr, scalarSoftmax, scalarSiluMul, scalarPacked, 4, nullptr};
}
const Kernels* neonKernels() { return &kNeon; }
}  // namespace exl
#else
namespace exl {
const Kernels* neonKernels() { return nullptr; }
}  // namespace exl
#endif
