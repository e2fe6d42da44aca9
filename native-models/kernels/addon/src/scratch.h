// Working memory of a native layer call, shared by every layer object. The engine runs one layer
// at a time, so scratch owned per object only multiplies the peak: at 64-row prefill calls a
// TinyLlama layer's attention and FFN buffers came to ~7 MB, ~150 MB over 22 layers. A call holds
// the lease for its whole duration; the buffers grow to the largest request and stay.
#pragma once
#include <cstddef>
#include <mutex>

#include "matrix.h"

namespace exl {

class Scratch {
 public:
  enum Floats { kNormed, kQkv, kAttnOut, kOOut, kScores, kKvPieces, kGate, kUp, kFloatSlots };
  enum Rows { kInputRows, kHiddenRows, kRowSlots };
  ~Scratch();
  // nullptr when out of memory.
  float* floats(Floats slot, size_t n);
  ActivationRows& rows(Rows slot) { return rows_[slot]; }

 private:
  float* f_[kFloatSlots] = {};
  size_t n_[kFloatSlots] = {};
  ActivationRows rows_[kRowSlots];
};

// Exclusive use of the shared scratch for one call.
class ScratchLease {
 public:
  ScratchLease();
  Scratch& operator*() { return scratch(); }
  Scratch* operator->() { return &scratch(); }

 private:
  static Scratch& scratch();
  std::lock_guard<std::mutex> lock_;
};

}  // namespace exl
