#include "scratch.h"

#include "memory.h"

namespace exl {
namespace {
std::mutex& scratchMutex() {
  static std::mutex* m = new std::mutex();  // leaked on purpose, as the pool (see pool.cc)
  return *m;
}
}  // namespace

Scratch::~Scratch() {
  for (float* f : f_) alignedFree(f);
}

float* Scratch::floats(Floats slot, size_t n) {
  if (n > n_[slot]) {
    alignedFree(f_[slot]);
    f_[slot] = static_cast<float*>(alignedAlloc(sizeof(float) * n, 64));
    n_[slot] = f_[slot] ? n : 0;
  }
  return f_[slot];
}

ScratchLease::ScratchLease() : lock_(scratchMutex()) {}

Scratch& ScratchLease::scratch() {
  static Scratch* s = new Scratch();
  return *s;
}

}  // namespace exl
