// NEON kernels with the Armv8.2 dot-product instructions (SDOT): every Apple M-series chip and most
// arm64 servers. Compiled with a target pragma; ffn.cc selects them after a run-time check.
#include "layout.h"

#if (defined(__aarch64__) || defined(_M_ARM64)) && defined(__GNUC__)
#pragma GCC push_options
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif
#define EXL_NEON_DOT 1
#define EXL_NEON_NS neon_dot
#include "kernels_neon_impl.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#pragma GCC pop_options

namespace exl {
namespace {
const Kernels kNeonDot = {"neon-dotprod", neon_dot::dot, neon_dot::axpy, neon_dot::scores, neon_dot::mix, nullptr, nullptr, scalarSoftmax, scalarSiluMul, scalarPacked, 4, nullptr};
}
const Kernels* neonDotKernels() { return &kNeonDot; }
}  // namespace exl
#else
namespace exl {
const Kernels* neonDotKernels() { return nullptr; }
}  // namespace exl
#endif
