// N-API surface of the sparse FFN kernel. Every argument is checked here, so bad calls from JS
// throw TypeError/RangeError instead of reaching the kernels.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "ffn.h"
#include "napi_util.h"
#include "pool.h"
#include "probe.h"

namespace exl {
void registerFileRead(Napi::Env env, Napi::Object exports);  // file_read.cc
}  // namespace exl

namespace {

constexpr const char* kRowsReleasedMessage =
    "this FFN keeps only its packed dense form (rows released): sparse passes and activation recording need the model loaded with its sparse rows";

using exl::Ffn;
using namespace exl::napi;

class FfnHandle : public Napi::ObjectWrap<FfnHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "SparseFfn",
                       {InstanceMethod<&FfnHandle::Run>("run"), InstanceMethod<&FfnHandle::RunAsync>("runAsync"), InstanceMethod<&FfnHandle::RunRows>("runRows"), InstanceMethod<&FfnHandle::PackDense>("packDense"),
                        InstanceMethod<&FfnHandle::Save>("save"), InstanceMethod<&FfnHandle::Close>("close"),
                        InstanceMethod<&FfnHandle::SetThreads>("setThreads"), InstanceMethod<&FfnHandle::Weights>("weights"),
                        InstanceAccessor<&FfnHandle::Info>("info")});
  }

  FfnHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FfnHandle>(info) {}

  // Called right after construction from createFfn/loadFfn (JS cannot construct one directly).
  void attach(Napi::Env env, std::unique_ptr<Ffn> f, const exl::Kernels* k, int threads) {
    ffn_ = std::move(f);
    kernels_ = k;
    threads_ = threads;
    external_ = (int64_t)ffn_->layout().totalBytes;
    Napi::MemoryManagement::AdjustExternalMemory(env, external_);
  }

  ~FfnHandle() override {
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_);
  }

  bool busy = false;  // a runAsync is in flight (set and cleared on the JS thread)
  Ffn* ffn() { return ffn_.get(); }
  const exl::Kernels* kernels() const { return kernels_; }
  int threads() const { return threads_; }

 private:
  std::vector<float> rowsOut_;  // runRows' result before an accumulating add

  // weights("gate" | "up" | "down") -> Float32Array: that matrix as the kernels see it.
  Napi::Value Weights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Ffn& f = live(env);
    const std::string which = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    const int w = which == "gate" ? 0 : which == "up" ? 1 : which == "down" ? 2 : -1;
    if (w < 0) throwType(env, "weights(which): which must be \"gate\", \"up\" or \"down\"");
    if (!f.hasDense() && !f.hasRows()) throwError(env, "the FFN holds no weights");
    Napi::Float32Array out = Napi::Float32Array::New(env, (size_t)f.layout().d * (size_t)f.layout().ffn);
    f.dequantize(w, out.Data());
    return out;
  }

  Ffn& live(Napi::Env env) {
    if (!ffn_) throwError(env, "this sparse FFN was closed");
    if (busy) throwError(env, "this sparse FFN is busy with a runAsync call; await it first");
    return *ffn_;
  }

  struct Args {
    const float* x;
    float* out;
    float threshold;
    float* acts;
  };

  Args parseRun(const Napi::CallbackInfo& info, Ffn& f) {
    Napi::Env env = info.Env();
    const exl::Layout& L = f.layout();
    Args a{};
    a.x = floatArray(env, info[0], "x", L.d).Data();
    a.out = floatArray(env, info[1], "out", L.d).Data();
    if (!info[2].IsNumber()) throwType(env, "threshold must be a number");
    const double t = info[2].As<Napi::Number>().DoubleValue();
    if (!(t >= 0) || !std::isfinite(t)) throwRange(env, "threshold must be a finite number ≥ 0 (0 = dense)");
    a.threshold = (float)t;
    if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull())
      a.acts = floatArray(env, info[3], "activations", L.ffn).Data();
    return a;
  }

  Napi::Value result(Napi::Env env, int active) {
    if (active == -2) throwRange(env, "x contains NaN or infinity");
    if (active == Ffn::kRowsReleased)
      throwError(env, kRowsReleasedMessage);
    if (active < 0) throwError(env, "out of memory for per-thread accumulators");
    Napi::Object r = Napi::Object::New(env);
    r.Set("active", active);
    return r;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Ffn& f = live(info.Env());
    Args a = parseRun(info, f);
    return result(info.Env(), f.run(kernels_, threads_, a.x, a.out, a.threshold, a.acts));
  }

  Napi::Value RunAsync(const Napi::CallbackInfo& info);

  // runRows(x [rows*d], out [rows*d], rows, threshold, accumulate?): with accumulate, out += FFN(x)
  // (the residual add, done here rather than element by element in JS).
  Napi::Value RunRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ffn& f = live(env);
    if (!info[2].IsNumber()) throwType(env, "rows must be a number");
    const int rows = info[2].As<Napi::Number>().Int32Value();
    if (rows < 1 || rows > exl::kMaxRows) throwRange(env, "rows must be between 1 and " + std::to_string(exl::kMaxRows));
    const exl::Layout& L = f.layout();
    const float* x = floatArray(env, info[0], "x", (size_t)rows * L.d).Data();
    float* out = floatArray(env, info[1], "out", (size_t)rows * L.d).Data();
    if (!info[3].IsNumber()) throwType(env, "threshold must be a number");
    const double t = info[3].As<Napi::Number>().DoubleValue();
    if (!(t >= 0) || !std::isfinite(t)) throwRange(env, "threshold must be a finite number ≥ 0 (0 = dense)");
    if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsBoolean())
      throwType(env, "accumulate must be a boolean");
    if (!(info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value()))
      return result(env, f.runRows(kernels_, threads_, rows, x, out, (float)t, nullptr));
    const size_t n = (size_t)rows * L.d;
    if (rowsOut_.size() < n) rowsOut_.resize(n);
    Napi::Value r = result(env, f.runRows(kernels_, threads_, rows, x, rowsOut_.data(), (float)t, nullptr));
    for (size_t i = 0; i < n; i++) out[i] += rowsOut_[i];
    return r;
  }

  // packDense({ releaseRows? }): adds the packed dense copy used by threshold-0 passes; with
  // releaseRows the per-neuron rows are freed (the packed copy is then the only one).
  Napi::Value PackDense(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ffn& f = live(env);
    bool release = false;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsObject()) throwType(env, "packDense(options): options must be an object");
      Napi::Value r = info[0].As<Napi::Object>().Get("releaseRows");
      if (!r.IsUndefined() && !r.IsBoolean()) throwType(env, "packDense: releaseRows must be a boolean");
      release = r.IsBoolean() && r.As<Napi::Boolean>().Value();
    }
    if (f.hasDense()) {
      if (release && f.hasRows()) throwError(env, "packDense: already packed with its rows kept");
      return env.Undefined();
    }
    std::string err;
    if (!f.packDense(threads_, release, &err)) throwError(env, err);
    if (!release) {
      Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)f.layout().totalBytes);
      external_ += (int64_t)f.layout().totalBytes;
    }
    return env.Undefined();
  }

  Napi::Value Save(const Napi::CallbackInfo& info) {
    Ffn& f = live(info.Env());
    if (!info[0].IsString()) throwType(info.Env(), "save(path): path must be a string");
    std::string err;
    if (!f.save(info[0].As<Napi::String>().Utf8Value(), &err)) throwError(info.Env(), err);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy) throwError(info.Env(), "cannot close while a runAsync call is in flight");
    ffn_.reset();
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -external_);
    external_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throwType(info.Env(), "setThreads(n): n must be a number");
    const double t = info[0].As<Napi::Number>().DoubleValue();
    if (!(t >= 1 && t <= exl::kMaxThreads && t == (int)t))
      throwRange(info.Env(), "threads must be an integer between 1 and " + std::to_string(exl::kMaxThreads));
    threads_ = (int)t;
    return info.Env().Undefined();
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!ffn_) {
      o.Set("closed", true);
      return o;
    }
    const exl::Layout& L = ffn_->layout();
    o.Set("d", L.d);
    o.Set("ffn", L.ffn);
    o.Set("bits", L.bits);
    o.Set("blockSize", L.block);
    o.Set("rowBytes", L.rowBytes);
    o.Set("bytes", (double)L.totalBytes);
    o.Set("rows", ffn_->hasRows());
    o.Set("packed", ffn_->hasDense());
    o.Set("order", L.order == exl::RowOrder::Interleaved ? "interleaved" : "planar");
    o.Set("isa", kernels_->name);
    o.Set("threads", threads_);
    return o;
  }

  std::unique_ptr<Ffn> ffn_;
  const exl::Kernels* kernels_ = nullptr;
  int threads_ = 1;
  int64_t external_ = 0;
};


// Runs one forward pass on a libuv worker thread; the typed arrays and the handle are kept alive
// by references until the promise settles.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, FfnHandle* h, Napi::Object self, Napi::Value x, Napi::Value out, Napi::Value acts,
            const float* xp, float* outp, float t, float* actsp)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), h_(h), x_(xp), out_(outp), acts_(actsp), t_(t) {
    self_ = Napi::Persistent(self);
    refs_[0] = Napi::Persistent(x.As<Napi::Object>());
    refs_[1] = Napi::Persistent(out.As<Napi::Object>());
    if (actsp) refs_[2] = Napi::Persistent(acts.As<Napi::Object>());
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { active_ = h_->ffn()->run(h_->kernels(), h_->threads(), x_, out_, t_, acts_); }
  void OnOK() override {
    h_->busy = false;
    if (active_ == -2) return deferred_.Reject(Napi::RangeError::New(Env(), "x contains NaN or infinity").Value());
    if (active_ == Ffn::kRowsReleased) return deferred_.Reject(Napi::Error::New(Env(), kRowsReleasedMessage).Value());
    if (active_ < 0) return deferred_.Reject(Napi::Error::New(Env(), "out of memory for per-thread accumulators").Value());
    Napi::Object r = Napi::Object::New(Env());
    r.Set("active", active_);
    deferred_.Resolve(r);
  }
  void OnError(const Napi::Error& e) override {
    h_->busy = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  FfnHandle* h_;
  Napi::ObjectReference self_, refs_[3];
  const float* x_;
  float* out_;
  float* acts_;
  float t_;
  int active_ = 0;
};

Napi::Value FfnHandle::RunAsync(const Napi::CallbackInfo& info) {
  Ffn& f = live(info.Env());
  Args a = parseRun(info, f);
  busy = true;
  auto* w = new RunWorker(info.Env(), this, info.This().As<Napi::Object>(), info[0], info[1],
                          a.acts ? info[3] : info.Env().Undefined(), a.x, a.out, a.threshold, a.acts);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value wrap(Napi::Env env, std::unique_ptr<Ffn> f, const exl::Kernels* k, int threads) {
  // The constructor lives in this environment's instance data (one per worker thread).
  Napi::Object obj = env.GetInstanceData<exl::napi::AddonData>()->ffn.New({});
  FfnHandle::Unwrap(obj)->attach(env, std::move(f), k, threads);
  return obj;
}

// createFfn({ d, ffn, bits, blockSize?, gate, up, down, gateGrid?, upGrid?, downGrid?, threads?, isa?, order?, form?,
//             activation? }); the grids: the source's block scales (quantize.h), blockSize 32.
// activation "silu" (default) or "gelu_tanh".
// form "rows" (default): per-neuron rows for sparse passes; "dense": only the packed matrices.
Napi::Value CreateFfn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  exl::SourceReads::Scope reads;  // parts read from a file live until the layout is made
  if (!info[0].IsObject()) throwType(env, "createFfn expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  const int64_t d = intProp(env, o, "d", 0, true), ffn = intProp(env, o, "ffn", 0, true);
  const int64_t bits = intProp(env, o, "bits", 8, false), block = intProp(env, o, "blockSize", 32, false);
  std::string order = "interleaved";
  if (!o.Get("order").IsUndefined()) order = o.Get("order").ToString().Utf8Value();
  if (order != "interleaved" && order != "planar") throwRange(env, "order must be \"interleaved\" or \"planar\"");
  std::string form = "rows";
  if (!o.Get("form").IsUndefined()) form = o.Get("form").ToString().Utf8Value();
  if (form != "rows" && form != "dense") throwRange(env, "form must be \"rows\" or \"dense\"");
  exl::Layout L{};
  if (const char* e = exl::makeLayout(d, ffn, bits, block,
                                      order == "planar" ? exl::RowOrder::Planar : exl::RowOrder::Interleaved, &L))
    throwRange(env, e);
  std::string activation = "silu";
  if (!o.Get("activation").IsUndefined()) activation = o.Get("activation").ToString().Utf8Value();
  if (activation != "silu" && activation != "gelu_tanh") throwRange(env, "activation must be \"silu\" or \"gelu_tanh\"");
  L.activation = activation == "gelu_tanh" ? 1 : 0;
  const size_t n = (size_t)d * (size_t)ffn;
  const exl::FfnGrids grids{gridProp(env, o, "gateGrid", ffn, d), gridProp(env, o, "upGrid", ffn, d),
                            gridProp(env, o, "downGrid", d, ffn)};
  const float* gate = weightsProp(env, o, "gate", n, grids.gate);
  const float* up = weightsProp(env, o, "up", n, grids.up);
  const float* down = weightsProp(env, o, "down", n, grids.down);
  // The per-neuron rows are quantized from the values (ffn.cc rowGrid): they need them.
  if (form == "rows" && (!gate || !up || !down)) throwType(env, "createFfn: the rows form needs gate, up and down as Float32Arrays");
  const int threads = threadsProp(env, o);
  const exl::Kernels* k = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Ffn> f = form == "dense" ? Ffn::createDense(L, gate, up, down, threads, &err, grids)
                                               : Ffn::create(L, gate, up, down, threads, &err, grids);
  if (!f) throwRange(env, "createFfn: " + err);
  return wrap(env, std::move(f), k, threads);
}

// loadFfn(path, { threads?, isa? })
Napi::Value LoadFfn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "loadFfn(path): path must be a string");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const int threads = threadsProp(env, o);
  const exl::Kernels* k = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Ffn> f = Ffn::load(info[0].As<Napi::String>().Utf8Value(), &err);
  if (!f) throwError(env, "loadFfn: " + err);
  return wrap(env, std::move(f), k, threads);
}

// Workers spin this long for the next call before sleeping (0 = sleep at once).
Napi::Value SetSpin(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throwType(info.Env(), "setSpinMicros(us): us must be a number");
  const double us = info[0].As<Napi::Number>().DoubleValue();
  if (!(us >= 0 && us <= 1e6)) throwRange(info.Env(), "spin must be between 0 and 1000000 microseconds");
  exl::Pool::instance().setSpinMicros((int)us);
  return info.Env().Undefined();
}

// probeReadBandwidth(megabytes, threads, reps) -> GB/s (diagnostics for the benchmark).
Napi::Value ProbeBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (int i = 0; i < 3; i++)
    if (!info[i].IsNumber()) throwType(env, "probeReadBandwidth(megabytes, threads, reps) takes three numbers");
  const double mb = info[0].As<Napi::Number>().DoubleValue();
  const int threads = info[1].As<Napi::Number>().Int32Value(), reps = info[2].As<Napi::Number>().Int32Value();
  if (!(mb >= 1 && mb <= 4096) || threads < 1 || threads > exl::kMaxThreads || reps < 1 || reps > 1000)
    throwRange(env, "probeReadBandwidth: megabytes 1..4096, threads 1..64, reps 1..1000");
  return Napi::Number::New(env, exl::probeReadBandwidth((size_t)(mb * 1048576), threads, reps));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new exl::napi::AddonData();
  data->ffn = Napi::Persistent(FfnHandle::Init(env));
  env.SetInstanceData(data);
  exl::napi::initDecoder(env, exports, *data);
  exports.Set("createFfn", Napi::Function::New(env, CreateFfn));
  exports.Set("loadFfn", Napi::Function::New(env, LoadFfn));
  exports.Set("setSpinMicros", Napi::Function::New(env, SetSpin));
  exports.Set("probeReadBandwidth", Napi::Function::New(env, ProbeBandwidth));
  exports.Set("kernels", Napi::String::New(env, exl::availableKernels()));
  exports.Set("abiVersion", Napi::Number::New(env, 7));
  exl::registerFileRead(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(exitlane_native, Init)
