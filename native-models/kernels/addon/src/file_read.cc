// readFile: one read of a model file on a libuv thread, for an import that keeps the file as it
// is (convert/kept-file.ts): XXH3-128 of its bytes (the same digest as convert/source-hash.ts),
// a check of every block's fp16 scales (or every float) inside the given byte ranges, and, when
// asked, the package's copy (on a thread of its own). The JavaScript thread builds the tokenizer
// meanwhile; hashing there (WebAssembly, ~5 GB/s) made an import ~3.5x a plain copy on 2 cores.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

#define XXH_INLINE_ALL
#include "../third_party/xxhash/xxhash.h"
#include "napi_util.h"

namespace exl {
namespace {

constexpr int64_t kPiece = 4 << 20;
constexpr int64_t kCopyPiece = 64 << 20;  // between checks for cancelling

// A byte range to check: whole units of `unit` bytes, each with fp16 scales at byte offsets
// `scaleAt` (one or two), or (float) each an element of that float type.
struct CheckRange {
  int64_t offset = 0, length = 0, unit = 1;
  int scales = 0;
  int scaleAt[2] = {0, 0};
  enum Float { kNone, kF32, kF16, kBF16 } floatType = kNone;
};

bool nonFinite(const CheckRange& r, const uint8_t* p) {
  switch (r.floatType) {
    case CheckRange::kF32: return (p[3] & 0x7f) == 0x7f && (p[2] & 0x80);
    case CheckRange::kF16: return (p[1] & 0x7c) == 0x7c;
    case CheckRange::kBF16: return (p[1] & 0x7f) == 0x7f && (p[0] & 0x80);
    case CheckRange::kNone: break;
  }
  for (int s = 0; s < r.scales; s++)
    if ((p[r.scaleAt[s] + 1] & 0x7c) == 0x7c) return true;
  return false;
}

class ReadWorker : public Napi::AsyncWorker {
 public:
  struct Shared {
    std::atomic<bool> cancelled{false};
    std::atomic<int64_t> bytes{0};  // read so far, for progress
  };
  ReadWorker(Napi::Env env, std::string file, std::string copyTo, std::vector<CheckRange> ranges,
             std::shared_ptr<Shared> shared)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        file_(std::move(file)),
        copyTo_(std::move(copyTo)),
        ranges_(std::move(ranges)),
        bad_(ranges_.size(), 0),
        shared_(std::move(shared)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    FILE* in = std::fopen(file_.c_str(), "rb");
    if (!in) return SetError("cannot open " + file_ + ": " + std::strerror(errno));
    // The copy runs beside the hash, on its own thread (copy_file_range where Linux has it: the
    // kernel copies page to page, as `cp` does; user-space writes of the same pieces stalled for
    // 0.3-0.5 s in one TinyLlama import of three on this VM).
    std::string copyErr;
    std::thread copier;
    if (!copyTo_.empty()) copier = std::thread([&] { copyErr = copy(); });
    std::string err = run(in);
    std::fclose(in);
    if (copier.joinable()) {
      if (!err.empty()) shared_->cancelled.store(true);
      copier.join();
    }
    if (err.empty()) err = copyErr;
    if (!err.empty()) SetError(err);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("bytes", Napi::Number::New(env, (double)bytes_));
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, digest_);
    static const char* hex = "0123456789abcdef";
    std::string h;
    for (unsigned char b : c.digest) h += hex[b >> 4], h += hex[b & 15];
    r.Set("xxh128", h);
    Napi::Array bad = Napi::Array::New(env, ranges_.size());
    for (size_t i = 0; i < bad_.size(); i++) bad.Set((uint32_t)i, Napi::Number::New(env, (double)bad_[i]));
    r.Set("nonFinite", bad);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  // The file into copyTo_ (which must not exist), stopping when cancelled.
  std::string copy() {
#if defined(__linux__)
    const int src = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (src < 0) return "cannot open " + file_ + ": " + std::strerror(errno);
    const int dst = ::open(copyTo_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (dst < 0) {
      const std::string e = "cannot create " + copyTo_ + ": " + std::strerror(errno);
      ::close(src);
      return e;
    }
    std::string err;
    bool kernelCopy = true;
    std::unique_ptr<uint8_t[]> buf;
    for (;;) {
      if (shared_->cancelled.load(std::memory_order_relaxed)) {
        err = "cancelled";
        break;
      }
      ssize_t n = -1;
      if (kernelCopy) {
        n = ::copy_file_range(src, nullptr, dst, nullptr, (size_t)kCopyPiece, 0);
        // Not across these file systems, or not at all: copy through a buffer instead.
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
          kernelCopy = false;
          continue;
        }
      } else {
        if (!buf) buf.reset(new uint8_t[kPiece]);
        n = ::read(src, buf.get(), (size_t)kPiece);
        for (ssize_t at = 0; n > 0 && at < n;) {
          const ssize_t w = ::write(dst, buf.get() + at, (size_t)(n - at));
          if (w <= 0) {
            n = -1;
            break;
          }
          at += w;
        }
      }
      if (n == 0) break;
      if (n < 0) {
        err = "copying " + file_ + " to " + copyTo_ + " failed: " + std::strerror(errno);
        break;
      }
    }
    ::close(src);
    if (::close(dst) != 0 && err.empty()) err = "writing " + copyTo_ + " failed: " + std::strerror(errno);
    return err;
#else
    FILE* in = std::fopen(file_.c_str(), "rb");
    if (!in) return "cannot open " + file_ + ": " + std::strerror(errno);
    FILE* out = std::fopen(copyTo_.c_str(), "wbx");
    if (!out) {
      std::fclose(in);
      return "cannot create " + copyTo_ + ": " + std::strerror(errno);
    }
    std::unique_ptr<uint8_t[]> buf(new uint8_t[kPiece]);
    std::string err;
    for (size_t n; (n = std::fread(buf.get(), 1, (size_t)kPiece, in)) > 0;) {
      if (shared_->cancelled.load(std::memory_order_relaxed)) {
        err = "cancelled";
        break;
      }
      if (std::fwrite(buf.get(), 1, n, out) != n) {
        err = "writing " + copyTo_ + " failed: " + std::strerror(errno);
        break;
      }
    }
    std::fclose(in);
    if (std::fclose(out) != 0 && err.empty()) err = "writing " + copyTo_ + " failed: " + std::strerror(errno);
    return err;
#endif
  }

  // Reads every piece (whole units inside each range, as source-hash.ts pieceList cuts them).
  std::string run(FILE* in) {
    XXH3_state_t* state = XXH3_createState();
    if (!state) return "out of memory";
    XXH3_128bits_reset(state);
    Pieces pieces(in);
    std::string err;
    const auto piece = [&](int64_t length, const CheckRange* r) {
      if (shared_->cancelled.load(std::memory_order_relaxed)) return (err = "cancelled"), false;
      const uint8_t* p = pieces.next(bytes_, length);
      if (!p) return (err = file_ + " ended or changed while it was read (at " + std::to_string(bytes_) + ")"), false;
      XXH3_128bits_update(state, p, (size_t)length);
      if (r)
        for (int64_t o = 0; o + r->unit <= length; o += r->unit)
          if (nonFinite(*r, p + o)) bad_[r - ranges_.data()]++;
      bytes_ += length;
      shared_->bytes.store(bytes_, std::memory_order_relaxed);
      return true;
    };
    const auto plain = [&](int64_t to) {
      while (bytes_ < to)
        if (!piece(std::min(kPiece, to - bytes_), nullptr)) return false;
      return true;
    };
    if (pieces.size() < 0) err = "cannot read " + file_ + ": " + std::strerror(errno);
    bool ok = err.empty();
    for (size_t i = 0; ok && i < ranges_.size(); i++) {
      const CheckRange& r = ranges_[i];
      if (!(ok = plain(r.offset))) break;
      const int64_t step = std::max<int64_t>(1, kPiece / r.unit) * r.unit;
      const int64_t end = r.offset + r.length;
      while (ok && bytes_ < end) ok = piece(std::min(step, end - bytes_), &r);
    }
    if (ok) plain(pieces.size());  // the rest of the file
    digest_ = XXH3_128bits_digest(state);
    XXH3_freeState(state);
    return err;
  }

  // The file's bytes piece after piece, read into one buffer. (Mapping them in windows instead,
  // which saves the copy out of the page cache, made TinyLlama imports slower on this VM: 3.5-3.8x
  // a copy against 2.4-3.0x; its page faults cost more than the copy.)
  class Pieces {
   public:
    explicit Pieces(FILE* in) : in_(in), buf_(new uint8_t[kPiece]) {
      if (std::fseek(in, 0, SEEK_END) == 0) size_ = tell(in);
      std::fseek(in, 0, SEEK_SET);
    }
    int64_t size() const { return size_; }
    // The `length` (at most kPiece) bytes at `offset` (pieces come in order), or nullptr past the end.
    const uint8_t* next(int64_t offset, int64_t length) {
      if (offset + length > size_) return nullptr;
      return (int64_t)std::fread(buf_.get(), 1, (size_t)length, in_) == length ? buf_.get() : nullptr;
    }

   private:
    static int64_t tell(FILE* f) {
#if defined(_WIN32)
      return _ftelli64(f);
#else
      return (int64_t)ftello(f);
#endif
    }
    FILE* in_;
    std::unique_ptr<uint8_t[]> buf_;
    int64_t size_ = -1;
  };

  Napi::Promise::Deferred deferred_;
  std::string file_, copyTo_;
  std::vector<CheckRange> ranges_;
  std::vector<int64_t> bad_;
  std::shared_ptr<Shared> shared_;
  int64_t bytes_ = 0;
  XXH128_hash_t digest_{};
};

// readFile(file, { copyTo?, ranges: [{ offset, length, unit, scales?: number[] (1-2 byte offsets
// of fp16 scales in a unit), float?: "F32" | "F16" | "BF16" }] }) -> { done: Promise<{ bytes,
// xxh128, nonFinite: number[] (per range) }>, cancel(), bytesRead() } (ranges ascending, not
// overlapping).
Napi::Value ReadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsObject()) napi::throwType(env, "readFile expects a path and an options object");
  Napi::Object o = info[1].As<Napi::Object>();
  const std::string copyTo = o.Get("copyTo").IsString() ? o.Get("copyTo").As<Napi::String>().Utf8Value() : "";
  std::vector<CheckRange> ranges;
  if (o.Get("ranges").IsArray()) {
    Napi::Array list = o.Get("ranges").As<Napi::Array>();
    int64_t at = 0;
    for (uint32_t i = 0; i < list.Length(); i++) {
      if (!list.Get(i).IsObject()) napi::throwType(env, "ranges[" + std::to_string(i) + "] must be an object");
      Napi::Object r = list.Get(i).As<Napi::Object>();
      CheckRange c;
      c.offset = napi::intProp(env, r, "offset", 0, true);
      c.length = napi::intProp(env, r, "length", 0, true);
      c.unit = napi::intProp(env, r, "unit", 0, true);
      if (c.offset < at || c.length < 0 || c.unit < 1 || c.length % c.unit != 0)
        napi::throwRange(env, "ranges must ascend, not overlap, and hold whole units");
      at = c.offset + c.length;
      if (r.Get("scales").IsArray()) {
        Napi::Array s = r.Get("scales").As<Napi::Array>();
        c.scales = (int)std::min<uint32_t>(2, s.Length());
        for (int k = 0; k < c.scales; k++) {
          c.scaleAt[k] = (int)s.Get((uint32_t)k).As<Napi::Number>().Int32Value();
          if (c.scaleAt[k] < 0 || c.scaleAt[k] + 2 > c.unit) napi::throwRange(env, "a scale must lie inside its unit");
        }
      } else if (r.Get("float").IsString()) {
        const std::string f = r.Get("float").As<Napi::String>().Utf8Value();
        c.floatType = f == "F32" ? CheckRange::kF32 : f == "F16" ? CheckRange::kF16 : f == "BF16" ? CheckRange::kBF16 : CheckRange::kNone;
        if (c.floatType == CheckRange::kNone) napi::throwRange(env, "float must be F32, F16 or BF16");
      }
      ranges.push_back(c);
    }
  }
  auto shared = std::make_shared<ReadWorker::Shared>();
  auto* w = new ReadWorker(env, info[0].As<Napi::String>().Utf8Value(), copyTo, std::move(ranges), shared);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("done", w->promise());
  handle.Set("cancel", Napi::Function::New(env, [shared](const Napi::CallbackInfo&) { shared->cancelled.store(true); }));
  handle.Set("bytesRead", Napi::Function::New(env, [shared](const Napi::CallbackInfo& i) {
               return Napi::Number::New(i.Env(), (double)shared->bytes.load(std::memory_order_relaxed));
             }));
  w->Queue();
  return handle;
}

}  // namespace

void registerFileRead(Napi::Env env, Napi::Object exports) { exports.Set("readFile", Napi::Function::New(env, ReadFile)); }

}  // namespace exl
