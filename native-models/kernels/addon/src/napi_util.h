// Argument checks shared by the addon's N-API classes: bad calls from JS throw TypeError or
// RangeError here instead of reaching the kernels.
#pragma once
#include <napi.h>

#include <string>

#include "ffn.h"

namespace exl {
namespace napi {

[[noreturn]] inline void throwType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] inline void throwRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }
[[noreturn]] inline void throwError(Napi::Env env, const std::string& msg) { throw Napi::Error::New(env, msg); }

inline Napi::Float32Array floatArray(Napi::Env env, Napi::Value v, const char* name, size_t length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throwType(env, std::string(name) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != length)
    throwRange(env, std::string(name) + " must have " + std::to_string(length) + " elements, got " +
                        std::to_string(a.ElementLength()));
  return a;
}

// An optional block grid (quantize.h) for an [n, k] matrix: a Float32Array of n·ceil(k/32) scales.
inline exl::BlockGrid gridProp(Napi::Env env, Napi::Object o, const char* name, int64_t n, int64_t k) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return {};
  const int64_t cols = (k + 31) / 32;
  return {floatArray(env, v, name, (size_t)(n * cols)).Data(), cols};
}

inline int64_t intProp(Napi::Env env, Napi::Object o, const char* name, int64_t fallback, bool required) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() && !required) return fallback;
  if (!v.IsNumber()) throwType(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == (double)(int64_t)d)) throwRange(env, std::string(name) + " must be an integer, got " + std::to_string(d));
  return (int64_t)d;
}

inline int threadsProp(Napi::Env env, Napi::Object o) {
  const int64_t t = intProp(env, o, "threads", 1, false);
  if (t < 1 || t > exl::kMaxThreads) throwRange(env, "threads must be between 1 and " + std::to_string(exl::kMaxThreads));
  return (int)t;
}

inline const exl::Kernels* kernelsProp(Napi::Env env, Napi::Object o) {
  Napi::Value v = o.Get("isa");
  std::string isa = "auto";
  if (!v.IsUndefined()) {
    if (!v.IsString()) throwType(env, "isa must be a string");
    isa = v.As<Napi::String>().Utf8Value();
  }
  std::string err;
  const exl::Kernels* k = exl::selectKernels(isa, &err);
  if (!k) throwRange(env, err);
  return k;
}

}  // namespace napi
}  // namespace exl
