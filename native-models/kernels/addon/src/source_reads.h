// A file's blocks for one create call (createFfn/createAttention/createLinear given parts as
// {file, offset}): the packers copy them into the kernels' layout, so they are held only until the
// call returns. Loading a package that keeps the GGUF lays every matrix out this way; reading the
// rows natively (instead of into JS buffers that wait for a garbage collection) keeps what a load
// holds beside the laid-out weights to the matrices of one call. POSIX systems map the file's
// pages (the page cache's own, no copy and no fresh pages to clear: reading 630 MB of TinyLlama
// into fresh buffers cost ~0.5 s of page faults) and unmap them when the call ends; Windows reads.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "memory.h"

#if !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace exl {

class SourceReads {
 public:
  // `bytes` bytes of `path` from `offset`, valid until the current Scope ends; nullptr and *err on failure.
  static const uint8_t* read(const std::string& path, int64_t offset, size_t bytes, std::string* err) {
    FILE* fp = std::fopen(path.c_str(), "rb");
    if (!fp) {
      *err = "cannot open " + path + ": " + std::strerror(errno);
      return nullptr;
    }
    Held h;
    const bool ok = h.fill(fp, offset, bytes);
    std::fclose(fp);
    if (!ok) {
      *err = path + " does not hold " + std::to_string(bytes) + " bytes at " + std::to_string(offset) +
             " (truncated?)";
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
    const uint8_t* data = nullptr;
    void* base = nullptr;  // what to unmap or free
    size_t span = 0;
    Held() = default;
    Held(Held&& o) noexcept : data(o.data), base(o.base), span(o.span) { o.base = nullptr; }
    Held& operator=(Held&&) = delete;
    Held(const Held&) = delete;
    // The bytes [offset, offset + n) of fp's file.
    bool fill(FILE* fp, int64_t offset, size_t n) {
      if (!seek(fp, 0, SEEK_END) || ftell64(fp) < offset + (int64_t)n) return false;
#if defined(_WIN32)
      base = alignedAlloc(n ? n : 1, 64);
      if (!base || !seek(fp, offset, SEEK_SET) || std::fread(base, 1, n, fp) != n) return false;
      data = static_cast<const uint8_t*>(base);
#else
      const int64_t page = sysconf(_SC_PAGESIZE);
      const int64_t start = offset / page * page;
      span = (size_t)(offset - start) + (n ? n : 1);
      int flags = MAP_PRIVATE;
#if defined(MAP_POPULATE)
      flags |= MAP_POPULATE;  // every page is read once, in order: map them all in one call
#endif
      void* p = mmap(nullptr, span, PROT_READ, flags, fileno(fp), (off_t)start);
      if (p == MAP_FAILED) return false;
      base = p;
      data = static_cast<const uint8_t*>(p) + (offset - start);
#endif
      return true;
    }
    ~Held() {
      if (!base) return;
#if defined(_WIN32)
      alignedFree(base);
#else
      munmap(base, span);
#endif
    }
  };

  static int64_t ftell64(FILE* fp) {
#if defined(_WIN32)
    return _ftelli64(fp);
#else
    return (int64_t)ftello(fp);
#endif
  }

  static bool seek(FILE* fp, int64_t offset, int whence) {
#if defined(_WIN32)
    return _fseeki64(fp, offset, whence) == 0;
#else
    return fseeko(fp, (off_t)offset, whence) == 0;
#endif
  }

  static std::vector<Held>& held() {
    thread_local std::vector<Held> h;
    return h;
  }
};

}  // namespace exl
