// NEON kernels for arm64: not written yet, so arm64 uses the portable scalar kernels.
#include "layout.h"

namespace exl {
const Kernels* neonKernels() { return nullptr; }
}  // namespace exl
