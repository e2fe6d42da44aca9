// A file's blocks read for one create call (createFfn/createAttention/createLinear given parts as
// {file, offset}): the packers copy them into the kernels' layout, so they are held only until the
// call returns. Loading a package that keeps the GGUF lays every matrix out this way; reading the
// rows natively (instead of into JS buffers that wait for a garbage collection) keeps what a load
// holds beside the laid-out weights to the matrices of one call. Linux gets them as their own
// mappings so that each is returned to the system at once (malloc may keep freed pages).
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "memory.h"

namespace exl {

class SourceReads {
 public:
  // `bytes` bytes of `path` from `offset`, valid until the current Scope ends; nullptr and *err on failure.
  static const uint8_t* read(const std::string& path, int64_t offset, size_t bytes, std::string* err) {
    Held h(bytes);
    if (!h.data) {
      *err = "out of memory reading " + std::to_string(bytes) + " bytes of " + path;
      return nullptr;
    }
    FILE* fp = std::fopen(path.c_str(), "rb");
    if (!fp) {
      *err = "cannot open " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    bool ok = seek(fp, offset) && std::fread(h.data, 1, bytes, fp) == bytes;
    std::fclose(fp);
    if (!ok) {
      *err = path + " ends before " + std::to_string(offset + (int64_t)bytes) + " (truncated?)";
      return nullptr;
    }
    held().push_back(std::move(h));
    return held().back().data;
  }

  // Frees what was read during its lifetime (one create call's parts) when it ends.
  class Scope {
   public:
    Scope() = default;
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() { held().clear(); }
  };

 private:
  struct Held {
    uint8_t* data = nullptr;
    size_t bytes = 0;
    explicit Held(size_t n) : bytes(n) {
#if defined(__linux__)
      void* p = mmap(nullptr, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      data = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
#else
      data = static_cast<uint8_t*>(alignedAlloc(n ? n : 1, 64));
#endif
    }
    Held(Held&& o) noexcept : data(o.data), bytes(o.bytes) { o.data = nullptr; }
    Held& operator=(Held&&) = delete;
    Held(const Held&) = delete;
    ~Held() {
      if (!data) return;
#if defined(__linux__)
      munmap(data, bytes ? bytes : 1);
#else
      alignedFree(data);
#endif
    }
  };

  static bool seek(FILE* fp, int64_t offset) {
#if defined(_WIN32)
    return _fseeki64(fp, offset, SEEK_SET) == 0;
#else
    return fseeko(fp, (off_t)offset, SEEK_SET) == 0;
#endif
  }

  static std::vector<Held>& held() {
    thread_local std::vector<Held> h;
    return h;
  }
};

}  // namespace exl
