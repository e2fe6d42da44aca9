// N-API surface of the native decode path: attention blocks (attention.h) and linear layers
// (matrix.h: the LM head with its final norm, exit heads). Every argument is checked here.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "attention.h"
#include "matrix.h"
#include "napi_util.h"

namespace exl {
namespace napi {
namespace {

Napi::Int32Array intArray(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throwType(env, std::string(name) + " must be an Int32Array");
  return v.As<Napi::Int32Array>();
}

int intArg(Napi::Env env, Napi::Value v, const char* name, int lo, int hi) {
  if (!v.IsNumber()) throwType(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi && d == (int)d))
    throwRange(env, std::string(name) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return (int)d;
}

class AttentionHandle : public Napi::ObjectWrap<AttentionHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeAttention",
                       {InstanceMethod<&AttentionHandle::Run>("run"), InstanceMethod<&AttentionHandle::Save>("save"),
                        InstanceMethod<&AttentionHandle::Weights>("weights"),
                        InstanceMethod<&AttentionHandle::Close>("close"), InstanceAccessor<&AttentionHandle::Info>("info")});
  }
  AttentionHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AttentionHandle>(info) {}
  ~AttentionHandle() override {
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_);
  }
  void attach(Napi::Env env, std::unique_ptr<Attention> a, const Kernels* k, int threads) {
    a_ = std::move(a), k_ = k, threads_ = threads;
    external_ = (int64_t)a_->bytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, external_);
  }

 private:
  // weights("qkv" | "o") -> Float32Array: that matrix as the kernels see it.
  Napi::Value Weights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Attention& a = live(env);
    const std::string which = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (which != "qkv" && which != "o") throwType(env, "weights(which): which must be \"qkv\" or \"o\"");
    const Matrix& m = which == "qkv" ? a.qkv() : a.o();
    Napi::Float32Array out = Napi::Float32Array::New(env, (size_t)(m.outputs() * m.inputs()));
    m.dequantize(out.Data());
    return out;
  }

  Attention& live(Napi::Env env) {
    if (!a_) throwError(env, "this attention block was closed");
    return *a_;
  }

  // run(x, positions, cos, sin, key, value, capacity, cached, residual, ffnIn)
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Attention& a = live(env);
    const AttentionConfig& c = a.config();
    Napi::Int32Array pos = intArray(env, info[1], "positions");
    AttentionStep s{};
    s.rows = (int)pos.ElementLength();
    if (s.rows < 1 || s.rows > kMaxRows) throwRange(env, "positions must hold 1.." + std::to_string(kMaxRows) + " rows");
    s.positions = pos.Data();
    s.x = floatArray(env, info[0], "x", (size_t)s.rows * c.d).Data();
    const int half = c.headDim / 2;
    if (!info[2].IsTypedArray() || !info[3].IsTypedArray()) throwType(env, "cos and sin must be Float32Arrays");
    const size_t tableLen = info[2].As<Napi::TypedArray>().ElementLength();
    if (tableLen == 0 || tableLen % half) throwRange(env, "cos must hold [positions, headDim/2] values");
    s.cos = floatArray(env, info[2], "cos", tableLen).Data();
    s.sin = floatArray(env, info[3], "sin", tableLen).Data();
    s.tablePositions = (int)(tableLen / half);
    s.capacity = intArg(env, info[6], "capacity", 1, 1 << 24);
    s.cached = intArg(env, info[7], "cached", 0, 1 << 24);
    const size_t kv = (size_t)c.kvHeads * s.capacity * c.headDim;
    // Both caches floats (Float32Array) or both halves (Uint16Array).
    s.halfKv = info[4].IsTypedArray() && info[4].As<Napi::TypedArray>().TypedArrayType() == napi_uint16_array;
    if (s.halfKv) {
      s.key = halfArray(env, info[4], "key", kv).Data();
      s.value = halfArray(env, info[5], "value", kv).Data();
    } else {
      s.key = floatArray(env, info[4], "key", kv).Data();
      s.value = floatArray(env, info[5], "value", kv).Data();
    }
    s.residual = floatArray(env, info[8], "residual", (size_t)s.rows * c.d).Data();
    s.ffnIn = floatArray(env, info[9], "ffnIn", (size_t)s.rows * c.d).Data();
    if (const char* e = a.run(k_, threads_, s)) throwRange(env, e);
    return env.Undefined();
  }

  Napi::Value Save(const Napi::CallbackInfo& info) {
    Attention& a = live(info.Env());
    if (!info[0].IsString()) throwType(info.Env(), "save(path): path must be a string");
    std::string err;
    if (!a.save(info[0].As<Napi::String>().Utf8Value(), &err)) throwError(info.Env(), err);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    a_.reset();
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -external_);
    external_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!a_) return o.Set("closed", true), o;
    const AttentionConfig& c = a_->config();
    o.Set("d", c.d), o.Set("heads", c.heads), o.Set("kvHeads", c.kvHeads), o.Set("headDim", c.headDim);
    o.Set("bits", c.bits), o.Set("blockSize", c.block), o.Set("bytes", (double)a_->bytes()), o.Set("isa", k_->name);
    return o;
  }

  std::unique_ptr<Attention> a_;
  const Kernels* k_ = nullptr;
  int threads_ = 1;
  int64_t external_ = 0;
};

class LinearHandle : public Napi::ObjectWrap<LinearHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeLinear",
                       {InstanceMethod<&LinearHandle::Run>("run"), InstanceMethod<&LinearHandle::RunTop>("runTop"),
                        InstanceMethod<&LinearHandle::Save>("save"), InstanceMethod<&LinearHandle::Weights>("weights"),
                        InstanceMethod<&LinearHandle::Rows>("rows"),
                        InstanceMethod<&LinearHandle::Close>("close"), InstanceAccessor<&LinearHandle::Info>("info")});
  }
  LinearHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinearHandle>(info) {}
  ~LinearHandle() override {
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_);
  }
  void attach(Napi::Env env, std::unique_ptr<Linear> l, const Kernels* k, int threads) {
    l_ = std::move(l), k_ = k, threads_ = threads;
    external_ = (int64_t)l_->matrix().bytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, external_);
  }

 private:
  Linear& live(Napi::Env env) {
    if (!l_) throwError(env, "this linear layer was closed");
    return *l_;
  }

  // run(x [rows*inputs], out [rows*outputs], rows)
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Linear& l = live(env);
    const int rows = intArg(env, info[2], "rows", 1, kMaxRows);
    const float* x = floatArray(env, info[0], "x", (size_t)rows * l.matrix().inputs()).Data();
    float* y = floatArray(env, info[1], "out", (size_t)rows * l.matrix().outputs()).Data();
    if (!l.run(k_, threads_, x, rows, y)) throwRange(env, "x contains NaN or infinity (or out of memory)");
    return env.Undefined();
  }

  // runTop(x [inputs], out [outputs]) -> [argmax, softmax(out)[argmax]] for one row: an exit
  // check's whole decision without a JS pass over the outputs.
  Napi::Value RunTop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Linear& l = live(env);
    const size_t n = (size_t)l.matrix().outputs();
    const float* x = floatArray(env, info[0], "x", (size_t)l.matrix().inputs()).Data();
    float* y = floatArray(env, info[1], "out", n).Data();
    if (!l.run(k_, threads_, x, 1, y)) throwRange(env, "x contains NaN or infinity (or out of memory)");
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
      if (y[i] > y[best]) best = i;
    scratch_.resize(n);
    std::copy(y, y + n, scratch_.begin());
    k_->softmax(scratch_.data(), (int)n);
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, (double)best));
    r.Set(1u, Napi::Number::New(env, scratch_[best]));
    return r;
  }

  // weights() -> Float32Array [outputs * inputs]: the matrix as the kernels see it.
  Napi::Value Weights(const Napi::CallbackInfo& info) {
    const Matrix& m = live(info.Env()).matrix();
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), (size_t)(m.outputs() * m.inputs()));
    m.dequantize(out.Data());
    return out;
  }

  // rows(ids: Int32Array) -> Float32Array [ids.length * inputs]: those rows as the kernels see
  // them (the LM head's rows of an early-exit shortlist, without a second copy of the head).
  Napi::Value Rows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Matrix& m = live(env).matrix();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throwType(env, "rows(ids): ids must be an Int32Array");
    Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
    for (size_t i = 0; i < ids.ElementLength(); i++)
      if (ids[i] < 0 || ids[i] >= m.outputs())
        throwRange(env, "rows(ids): row " + std::to_string(ids[i]) + " is not below " + std::to_string(m.outputs()));
    Napi::Float32Array out = Napi::Float32Array::New(env, ids.ElementLength() * (size_t)m.inputs());
    for (size_t i = 0; i < ids.ElementLength(); i++) m.dequantizeRow(ids[i], out.Data() + i * m.inputs());
    return out;
  }

  Napi::Value Save(const Napi::CallbackInfo& info) {
    Linear& l = live(info.Env());
    if (!info[0].IsString()) throwType(info.Env(), "save(path): path must be a string");
    std::string err;
    if (!l.save(info[0].As<Napi::String>().Utf8Value(), &err)) throwError(info.Env(), err);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    l_.reset();
    if (external_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -external_);
    external_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!l_) return o.Set("closed", true), o;
    const Layout& L = l_->matrix().layout();
    o.Set("inputs", L.d), o.Set("outputs", L.ffn), o.Set("bits", L.bits), o.Set("blockSize", L.block);
    o.Set("bytes", (double)l_->matrix().bytes()), o.Set("isa", k_->name);
    return o;
  }

  std::unique_ptr<Linear> l_;
  std::vector<float> scratch_;
  const Kernels* k_ = nullptr;
  int threads_ = 1;
  int64_t external_ = 0;
};

const float* optionalFloats(Napi::Env env, Napi::Object o, const char* name, size_t n) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return floatArray(env, v, name, n).Data();
}

int bitsProp(Napi::Env env, Napi::Object o) {
  const int64_t b = intProp(env, o, "bits", 8, false);
  if (b != 4 && b != 8) throwRange(env, "bits must be 4 or 8");
  return (int)b;
}

// createAttention({ d, heads, kvHeads, headDim, bits?, blockSize?, eps, interleaved, attnNorm, wqkv, bqkv?, wo, ffnNorm,
//                   qNorm?, kNorm?, postNorm?, window?, scale?, wqkvGrid?, woGrid?, threads?, isa? })
Napi::Value CreateAttention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  exl::SourceReads::Scope reads;  // parts read from a file live until the layout is made
  if (!info[0].IsObject()) throwType(env, "createAttention expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  AttentionConfig c{};
  c.d = (int32_t)intProp(env, o, "d", 0, true);
  c.heads = (int32_t)intProp(env, o, "heads", 0, true);
  c.kvHeads = (int32_t)intProp(env, o, "kvHeads", 0, true);
  c.headDim = (int32_t)intProp(env, o, "headDim", 0, true);
  c.bits = bitsProp(env, o);
  c.block = (int32_t)intProp(env, o, "blockSize", 32, false);
  if (!o.Get("eps").IsNumber()) throwType(env, "eps must be a number");
  c.eps = (float)o.Get("eps").As<Napi::Number>().DoubleValue();
  c.interleaved = o.Get("interleaved").ToBoolean().Value() ? 1 : 0;
  if (c.d < 1 || c.heads < 1 || c.kvHeads < 1 || c.headDim < 2 || c.d > (1 << 20) || c.heads > 1024 || c.headDim > 1024)
    throwRange(env, "createAttention: bad shape");
  const size_t qd = (size_t)c.heads * c.headDim, n = qd + 2 * (size_t)c.kvHeads * c.headDim;
  AttentionWeights w{};
  w.attnNorm = floatArray(env, o.Get("attnNorm"), "attnNorm", c.d).Data();
  w.ffnNorm = floatArray(env, o.Get("ffnNorm"), "ffnNorm", c.d).Data();
  w.qkvGrid = gridProp(env, o, "wqkvGrid", (int64_t)n, c.d);
  w.oGrid = gridProp(env, o, "woGrid", c.d, (int64_t)qd);
  w.wqkv = weightsProp(env, o, "wqkv", n * c.d, w.qkvGrid);
  w.wo = weightsProp(env, o, "wo", (size_t)c.d * qd, w.oGrid);
  w.bqkv = optionalFloats(env, o, "bqkv", n);
  c.hasBias = w.bqkv != nullptr;
  w.qNorm = optionalFloats(env, o, "qNorm", c.headDim);
  w.kNorm = optionalFloats(env, o, "kNorm", c.headDim);
  if ((w.qNorm == nullptr) != (w.kNorm == nullptr)) throwType(env, "qNorm and kNorm come together");
  c.hasQkNorm = w.qNorm != nullptr;
  w.postNorm = optionalFloats(env, o, "postNorm", c.d);
  c.hasPostNorm = w.postNorm != nullptr;
  c.window = (int32_t)intProp(env, o, "window", 0, false);
  if (c.window < 0) throwRange(env, "window must be 0 (none) or a positive number of slots");
  const Napi::Value scale = o.Get("scale");
  if (!scale.IsUndefined() && !(scale.IsNumber() && scale.As<Napi::Number>().DoubleValue() > 0))
    throwRange(env, "scale must be a positive number");
  c.scale = scale.IsUndefined() ? 0.0f : (float)scale.As<Napi::Number>().DoubleValue();
  const int threads = threadsProp(env, o);
  const Kernels* k = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Attention> a = Attention::create(c, w, threads, &err);
  if (!a) throwRange(env, "createAttention: " + err);
  Napi::Object obj = env.GetInstanceData<AddonData>()->attention.New({});
  AttentionHandle::Unwrap(obj)->attach(env, std::move(a), k, threads);
  return obj;
}

Napi::Value LoadAttention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "loadAttention(path): path must be a string");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const int threads = threadsProp(env, o);
  const Kernels* k = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Attention> a = Attention::load(info[0].As<Napi::String>().Utf8Value(), &err);
  if (!a) throwError(env, "loadAttention: " + err);
  Napi::Object obj = env.GetInstanceData<AddonData>()->attention.New({});
  AttentionHandle::Unwrap(obj)->attach(env, std::move(a), k, threads);
  return obj;
}

// createLinear({ outputs, inputs, bits?, blockSize?, weights, weightsGrid?, bias?, norm?, eps?, threads?, isa? })
Napi::Value CreateLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  exl::SourceReads::Scope reads;  // parts read from a file live until the layout is made
  if (!info[0].IsObject()) throwType(env, "createLinear expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  const int64_t n = intProp(env, o, "outputs", 0, true), k = intProp(env, o, "inputs", 0, true);
  if (n < 1 || k < 1 || n > (1 << 24) || k > (1 << 20)) throwRange(env, "createLinear: bad shape");
  const int bits = bitsProp(env, o);
  const int block = (int)intProp(env, o, "blockSize", 32, false);
  const BlockGrid grid = gridProp(env, o, "weightsGrid", n, k);
  const float* w = weightsProp(env, o, "weights", (size_t)n * k, grid);
  const float* bias = optionalFloats(env, o, "bias", n);
  const float* norm = optionalFloats(env, o, "norm", k);
  const float eps = o.Get("eps").IsNumber() ? (float)o.Get("eps").As<Napi::Number>().DoubleValue() : 0.0f;
  const int threads = threadsProp(env, o);
  const Kernels* kern = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Linear> l = Linear::create(n, k, bits, block, w, bias, norm, eps, threads, &err, grid);
  if (!l) throwRange(env, "createLinear: " + err);
  Napi::Object obj = env.GetInstanceData<AddonData>()->linear.New({});
  LinearHandle::Unwrap(obj)->attach(env, std::move(l), kern, threads);
  return obj;
}

Napi::Value LoadLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "loadLinear(path): path must be a string");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const int threads = threadsProp(env, o);
  const Kernels* k = kernelsProp(env, o);
  std::string err;
  std::unique_ptr<Linear> l = Linear::load(info[0].As<Napi::String>().Utf8Value(), &err);
  if (!l) throwError(env, "loadLinear: " + err);
  Napi::Object obj = env.GetInstanceData<AddonData>()->linear.New({});
  LinearHandle::Unwrap(obj)->attach(env, std::move(l), k, threads);
  return obj;
}

}  // namespace

void initDecoder(Napi::Env env, Napi::Object exports, AddonData& data) {
  data.attention = Napi::Persistent(AttentionHandle::Init(env));
  data.linear = Napi::Persistent(LinearHandle::Init(env));
  exports.Set("createAttention", Napi::Function::New(env, CreateAttention));
  exports.Set("loadAttention", Napi::Function::New(env, LoadAttention));
  exports.Set("createLinear", Napi::Function::New(env, CreateLinear));
  exports.Set("loadLinear", Napi::Function::New(env, LoadLinear));
}

}  // namespace napi
}  // namespace exl
