{
  "targets": [
    {
      "target_name": "exitlane_native",
      "sources": [
        "src/addon.cc",
        "src/addon_decoder.cc",
        "src/attention.cc",
        "src/matrix.cc",
        "src/packed.cc",
        "src/ggml_blocks.cc",
        "src/ffn.cc",
        "src/ffn_file.cc",
        "src/file_read.cc",
        "src/pool.cc",
        "src/scratch.cc",
        "src/probe.cc",
        "src/quantize.cc",
        "src/kernels_scalar.cc",
        "src/kernels_avx2.cc",
        "src/kernels_avx512.cc",
        "src/kernels_amx.cc",
        "src/kernels_neon.cc",
        "src/kernels_neon_dot.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fvisibility=hidden"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/O2"] }
      }
    }
  ]
}
