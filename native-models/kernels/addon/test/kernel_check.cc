// Checks every kernel set this CPU runs against the scalar kernels, without Node: for arm64 under
// qemu from an x86 machine, or on a CI runner before the addon is built.
//   S=$(ls ../src/*.cc | grep -v addon.cc)
//   g++ -std=c++17 -O2 -pthread -I../src kernel_check.cc $S -o /tmp/kernel_check && /tmp/kernel_check
//   aarch64-linux-gnu-g++ -static -std=c++17 -O2 -pthread -I../src kernel_check.cc $S -o /tmp/kc_arm
//   qemu-aarch64 -cpu max /tmp/kc_arm; qemu-aarch64 -cpu cortex-a53 /tmp/kc_arm   (no dotprod)
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "ffn.h"
#include "quantize.h"

using namespace exl;

int main() {
  std::mt19937 rng(1);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  int failures = 0, checks = 0;
  const std::string isas[] = {"avx512", "avx2", "neon-dotprod", "neon"};
  for (int bits : {8, 4})
    for (int block : {32, 64, 128, 256})
      for (int d : {64, 100, 520})
        for (int ffn : {5, 300}) {
          std::vector<float> gate(d * ffn), up(d * ffn), down(d * ffn), x(d);
          for (auto* v : {&gate, &up, &down})
            for (float& f : *v) f = 0.02f * n01(rng);
          for (float& f : x) f = n01(rng);
          Layout L{};
          if (const char* e = makeLayout(d, ffn, bits, block, RowOrder::Interleaved, &L)) return std::printf("%s\n", e), 2;
          std::string err;
          auto f = Ffn::create(L, gate.data(), up.data(), down.data(), 2, &err);
          if (!f) return std::printf("create: %s\n", err.c_str()), 2;
          // Errors are measured against the dense output's norm: with one or two active neurons the
          // output can be a near-cancelling sum whose own norm says nothing about rounding.
          std::vector<float> dense(d);
          f->run(scalarKernels(), 1, x.data(), dense.data(), 0, nullptr);
          double scale = 0;
          for (float v : dense) scale += v * v;
          for (float t : {0.0f, 0.05f, 0.2f}) {
            std::vector<float> want(d), got(d);
            const int wantActive = f->run(scalarKernels(), 2, x.data(), want.data(), t, nullptr);
            for (const std::string& isa : isas) {
              const Kernels* k = selectKernels(isa, &err);
              if (!k) continue;
              const int active = f->run(k, 2, x.data(), got.data(), t, nullptr);
              double num = 0;
              for (int i = 0; i < d; i++) num += (got[i] - want[i]) * (got[i] - want[i]);
              const double rel = std::sqrt(num / (scale > 0 ? scale : 1));
              checks++;
              if (active != wantActive || !(rel < 2e-5)) {
                failures++;
                std::printf("FAIL %s int%d block %d d=%d ffn=%d t=%.2f: active %d vs %d, rel err %.3g\n", isa.c_str(), bits,
                            block, d, ffn, t, active, wantActive, rel);
              }
            }
          }
        }
  // A kernel set's own activation quantizer must give exactly quantizeActivation's codes, scales
  // and sums (verification rows reproduce one-token steps bit for bit only if it does).
  for (const std::string& isa : isas) {
    std::string err;
    const Kernels* k = selectKernels(isa, &err);
    if (!k || !k->quantize) continue;
    for (int block : {32, 64, 128, 256})
      for (int d : {1, 31, 100, 192, 520, 2048}) {
        Layout L{};
        if (makeLayout(d, 8, 8, block, RowOrder::Interleaved, &L)) return 2;
        std::vector<float> x(d);
        for (int trial = 0; trial < 20; trial++) {
          for (int i = 0; i < d; i++) x[i] = (trial % 3 ? 1.0f : 40.0f) * n01(rng);
          if (trial == 5) x[d / 2] = 0;
          if (trial == 6) std::fill(x.begin(), x.end(), 0.0f);
          if (trial == 7) x[0] = -x[0] * 1e6f;
          std::vector<int8_t> qa(L.dp), qb(L.dp);
          std::vector<int32_t> ca(L.dp / 4), cb(L.dp / 4), sa(L.kb), sb(L.kb);
          std::vector<float> xa(L.kb), xb(L.kb);
          XQuant a{qa.data(), xa.data(), sa.data(), ca.data()}, b{qb.data(), xb.data(), sb.data(), cb.data()};
          const bool okA = quantizeActivation(L, x.data(), a), okB = k->quantize(L, x.data(), b);
          checks++;
          if (okA != okB || qa != qb || ca != cb || sa != sb || xa != xb) {
            failures++;
            std::printf("FAIL %s quantize block %d d=%d trial %d\n", isa.c_str(), block, d, trial);
          }
        }
        x[d - 1] = NAN;
        std::vector<int8_t> q(L.dp);
        std::vector<int32_t> c(L.dp / 4), s(L.kb);
        std::vector<float> sx(L.kb);
        XQuant bad{q.data(), sx.data(), s.data(), c.data()};
        checks++;
        if (k->quantize(L, x.data(), bad)) failures++, std::printf("FAIL %s quantize accepts NaN\n", isa.c_str());
      }
  }
  std::printf("kernel_check: %d comparisons against scalar, %d failures (kernels here: %s)\n", checks, failures,
              availableKernels().c_str());
  return failures ? 1 : 0;
}
