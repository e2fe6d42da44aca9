// Per-environment constructors of the addon's classes (one set per worker thread that loads it).
#pragma once
#include <napi.h>

namespace exl {
namespace napi {

struct AddonData {
  Napi::FunctionReference ffn, attention, linear;
};

// Registers createAttention/loadAttention/createLinear/loadLinear (addon_decoder.cc).
void initDecoder(Napi::Env env, Napi::Object exports, AddonData& data);

}  // namespace napi
}  // namespace exl
