// Argument checks shared by the addon's N-API classes: bad calls from JS throw TypeError or
// RangeError here instead of reaching the kernels.
#pragma once
#include <napi.h>

#include <string>

#include "ffn.h"
#include "source_reads.h"

namespace exl {
namespace napi {

[[noreturn]] inline void throwType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] inline void throwRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }
[[noreturn]] inline void throwError(Napi::Env env, const std::string& msg) { throw Napi::Error::New(env, msg); }

// A typed array of exactly `length` elements of type T (`what` names it in the error).
template <typename T>
Napi::TypedArrayOf<T> typedArray(Napi::Env env, Napi::Value v, const char* name, size_t length, napi_typedarray_type type,
                                 const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throwType(env, std::string(name) + " must be " + what);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ElementLength() != length)
    throwRange(env, std::string(name) + " must have " + std::to_string(length) + " elements, got " +
                        std::to_string(a.ElementLength()));
  return a;
}

inline Napi::Float32Array floatArray(Napi::Env env, Napi::Value v, const char* name, size_t length) {
  return typedArray<float>(env, v, name, length, napi_float32_array, "a Float32Array");
}

inline Napi::Uint16Array halfArray(Napi::Env env, Napi::Value v, const char* name, size_t length) {
  return typedArray<uint16_t>(env, v, name, length, napi_uint16_array, "a Uint16Array, as the key cache is");
}

inline int64_t intProp(Napi::Env env, Napi::Object o, const char* name, int64_t fallback, bool required) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() && !required) return fallback;
  if (!v.IsNumber()) throwType(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == (double)(int64_t)d)) throwRange(env, std::string(name) + " must be an integer, got " + std::to_string(d));
  return (int64_t)d;
}

// An optional stored form (quantize.h's BlockGrid) for an [n, k] matrix: a Float32Array of
// n·ceil(k/32) grid scales, or { bits?: 4 | 8, scales?: that array, activationGroup?: 256,
// source?: [{ type: "Q4_0" | "Q4_1" | "Q5_0" | "Q5_1" | "Q8_0" | "Q4_K" | "Q5_K" | "Q6_K", rows,
// bytes: Uint8Array of the tensor's rows, or file: path and offset: where a file holds them }] (up to 4 parts stacked, n rows in all), keep: "grid"
// (Q4_0 at 4 bits, Q5_0 at 5; Q4_0, Q5_0, Q8_0 at 8) | "mins" (Q4_1 at 4 bits, Q5_1 at 5) | "q4k" |
// "q5k" (bits 5) | "k6",
// mins?: boolean (k6) } (the file's blocks laid out as they are; the matrix's values are then
// not needed).
// Or { bands: [such forms, each with a source] }: the matrix as bands of rows (quantize.h).
inline exl::BlockGrid gridValue(Napi::Env env, Napi::Value v, const std::string& name, int64_t n, int64_t k);
inline exl::BlockGrid gridProp(Napi::Env env, Napi::Object o, const char* name, int64_t n, int64_t k) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return {};
  return gridValue(env, v, name, n, k);
}

inline exl::BlockGrid bandsValue(Napi::Env env, Napi::Value v, const std::string& at, int64_t n, int64_t k) {
  if (!v.IsArray()) throwType(env, at + "bands must be an array of forms");
  Napi::Array list = v.As<Napi::Array>();
  if (list.Length() < 2 || list.Length() > 4) throwRange(env, at + "bands needs 2 to 4 forms");
  exl::BlockGrid g;
  int64_t rows = 0;
  for (uint32_t i = 0; i < list.Length(); i++) {
    const std::string bat = at + "bands[" + std::to_string(i) + "]";
    Napi::Value b = list.Get(i);
    if (!b.IsObject() || !b.As<Napi::Object>().Get("source").IsArray()) throwType(env, bat + " must be a form with a source");
    // Its rows are its source's.
    Napi::Array parts = b.As<Napi::Object>().Get("source").As<Napi::Array>();
    int64_t bandRows = 0;
    for (uint32_t j = 0; j < parts.Length(); j++)
      if (parts.Get(j).IsObject()) bandRows += intProp(env, parts.Get(j).As<Napi::Object>(), "rows", 0, true);
    if (i + 1 < list.Length() && bandRows % 16 != 0) throwRange(env, bat + " must have a multiple of 16 rows (all but the last band)");
    g.bands.push_back(gridValue(env, b, bat, bandRows, k));
    rows += bandRows;
  }
  if (rows != n) throwRange(env, at + "bands must hold the matrix's " + std::to_string(n) + " rows");
  return g;
}

inline exl::BlockGrid gridValue(Napi::Env env, Napi::Value v, const std::string& name, int64_t n, int64_t k) {
  const int64_t cols = (k + 31) / 32;
  exl::BlockGrid g;
  if (v.IsTypedArray()) {
    g.scales = floatArray(env, v, name.c_str(), (size_t)(n * cols)).Data();
    g.cols = cols;
    return g;
  }
  if (!v.IsObject()) throwType(env, name + " must be a Float32Array or an object");
  Napi::Object f = v.As<Napi::Object>();
  const std::string at = name + ".";
  if (!f.Get("bands").IsUndefined()) return bandsValue(env, f.Get("bands"), at, n, k);
  if (!f.Get("scales").IsUndefined()) {
    g.scales = floatArray(env, f.Get("scales"), (at + "scales").c_str(), (size_t)(n * cols)).Data();
    g.cols = cols;
  }
  const int64_t bits = intProp(env, f, "bits", 0, false);
  if (bits != 0 && bits != 4 && bits != 5 && bits != 8) throwRange(env, at + "bits must be 4, 5 or 8");
  g.bits = (int)bits;
  const int64_t group = intProp(env, f, "activationGroup", 0, false);
  if (group != 0 && (group != 256 || k % 256 != 0)) throwRange(env, at + "activationGroup must be 256, with a multiple of 256 inputs");
  g.xGroup = (int)group;
  if (!f.Get("source").IsUndefined()) {
    if (!f.Get("source").IsArray()) throwType(env, at + "source must be an array of parts");
    Napi::Array parts = f.Get("source").As<Napi::Array>();
    if (parts.Length() < 1 || parts.Length() > (uint32_t)exl::SourceRows::kMaxParts)
      throwRange(env, at + "source needs 1 to " + std::to_string(exl::SourceRows::kMaxParts) + " parts");
    int64_t rows = 0;
    for (uint32_t i = 0; i < parts.Length(); i++) {
      const std::string pat = at + "source[" + std::to_string(i) + "].";
      if (!parts.Get(i).IsObject()) throwType(env, pat + " must be an object");
      Napi::Object part = parts.Get(i).As<Napi::Object>();
      const int type = part.Get("type").IsString() ? exl::ggmlTypeOf(part.Get("type").As<Napi::String>().Utf8Value().c_str()) : -1;
      if (type < 0) throwRange(env, pat + "type must be Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K or Q6_K");
      const int64_t partRows = intProp(env, part, "rows", 0, true);
      const int64_t per = exl::isKType(type) ? 256 : 32;
      if (partRows < 1 || k % per != 0) throwRange(env, pat + "rows must be positive and the inputs whole blocks of the type");
      const size_t want = (size_t)(partRows * exl::ggmlRowBytes(type, k));
      const uint8_t* bytes = nullptr;
      if (part.Get("file").IsString()) {
        // The rows where the file holds them: read for this call only (SourceReads).
        const int64_t offset = intProp(env, part, "offset", 0, true);
        if (offset < 0) throwRange(env, pat + "offset must not be negative");
        std::string err;
        bytes = exl::SourceReads::read(part.Get("file").As<Napi::String>().Utf8Value(), offset, want, &err);
        if (!bytes) throwError(env, pat + "file: " + err);
      } else {
        Napi::Value b = part.Get("bytes");
        if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
          throwType(env, pat + "bytes must be a Uint8Array (or file and offset)");
        if (b.As<Napi::Uint8Array>().ElementLength() != want)
          throwRange(env, pat + "bytes must hold " + std::to_string(want) + " bytes (rows of the type)");
        bytes = static_cast<const uint8_t*>(b.As<Napi::Uint8Array>().Data());
      }
      g.source.parts[i] = {type, bytes, partRows};
      rows += partRows;
    }
    g.source.n = (int)parts.Length();
    if (rows != n) throwRange(env, at + "source parts must hold the matrix's " + std::to_string(n) + " rows");
    const std::string keep = f.Get("keep").IsString() ? f.Get("keep").As<Napi::String>().Utf8Value() : "";
    g.keep = keep == "grid"   ? exl::Keep::Grid
             : keep == "mins" ? exl::Keep::Mins
             : keep == "q4k"  ? exl::Keep::Q4K
             : keep == "q5k"  ? exl::Keep::Q5K
             : keep == "k6"   ? exl::Keep::K6
                              : exl::Keep::None;
    if (g.keep == exl::Keep::None) throwRange(env, at + "keep must be \"grid\", \"mins\", \"q4k\", \"q5k\" or \"k6\"");
    const auto all = [&](bool (*ok)(int)) { return g.source.allOf(ok); };
    const auto gridType = [](int t) { return t == exl::kQ4_0 || t == exl::kQ5_0 || t == exl::kQ8_0; };
    const bool fits = g.keep == exl::Keep::Q4K  ? all([](int t) { return t == exl::kQ4_K; })
                      : g.keep == exl::Keep::Q5K ? all([](int t) { return t == exl::kQ5_K; }) && g.bits == 5
                      : g.keep == exl::Keep::K6 ? all(exl::isKType)
                      : g.keep == exl::Keep::Mins
                          ? (g.bits == 4 ? all([](int t) { return t == exl::kQ4_1; })
                                         : g.bits == 5 && all([](int t) { return t == exl::kQ5_1; }))
                      : g.bits == 4 ? all([](int t) { return t == exl::kQ4_0; })
                      : g.bits == 5 ? all([](int t) { return t == exl::kQ5_0; })
                                    : g.bits == 8 && all(gridType);
    if (!fits) throwRange(env, at + "source's types do not fit keep \"" + keep + "\" at these bits");
    g.kmins = f.Get("mins").ToBoolean().Value();
    if (!f.Get("scales").IsUndefined()) throwRange(env, at + "source and scales exclude each other");
    return g;
  }
  if (g.bits == 5) throwRange(env, at + "5 bits need the file's blocks (source)");
  return g;
}

// A matrix's float weights, n values; absent (undefined) only where its grid keeps the file's
// blocks (BlockGrid::source), which then give every value.
inline const float* weightsProp(Napi::Env env, Napi::Object o, const char* name, size_t n, const exl::BlockGrid& g) {
  if (o.Get(name).IsUndefined() && (g.source.n > 0 || !g.bands.empty())) return nullptr;
  return floatArray(env, o.Get(name), name, n).Data();
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
