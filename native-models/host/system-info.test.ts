import os from "node:os";
import { describe, expect, it } from "vitest";
import { EngineInfo } from "./protocol.js";
import { detectSimd, getSystemInfo, parseLinuxCpuFeatures, parseMacSysctl } from "./system-info.js";

describe("parseLinuxCpuFeatures", () => {
  it("picks the inference-relevant x86 flags in a stable order", () => {
    const cpuinfo = "processor\t: 0\nflags\t\t: fpu sse4_2 avx512_vnni avx2 avx sse4_1 amx_tile fma\n";
    expect(parseLinuxCpuFeatures(cpuinfo)).toEqual([
      "sse4_1",
      "sse4_2",
      "avx",
      "avx2",
      "fma",
      "avx512_vnni",
      "amx_tile",
    ]);
  });

  it("maps ARM feature names to the usual ones", () => {
    expect(parseLinuxCpuFeatures("Features\t: fp asimd asimddp i8mm sve\n")).toEqual([
      "neon",
      "dotprod",
      "i8mm",
      "sve",
    ]);
  });

  it("returns nothing when there is no feature line", () => {
    expect(parseLinuxCpuFeatures("processor: 0\n")).toEqual([]);
  });
});

describe("parseMacSysctl", () => {
  it("reads Intel and Apple Silicon keys that are set to 1", () => {
    expect(parseMacSysctl("hw.optional.avx2_0: 1\nhw.optional.avx512f: 0\nhw.optional.fma: 1\n")).toEqual([
      "avx2",
      "fma",
    ]);
    expect(parseMacSysctl("hw.optional.arm.FEAT_DotProd: 1\nhw.optional.arm.FEAT_I8MM: 1\n")).toEqual([
      "neon",
      "dotprod",
      "i8mm",
    ]);
  });
});

describe("detectSimd", () => {
  it("falls back to the architectural baseline where it cannot read features", () => {
    expect(detectSimd("win32", "x64")).toEqual(["sse2"]);
    expect(detectSimd("win32", "arm64")).toEqual(["neon"]);
  });
});

describe("getSystemInfo", () => {
  it("reports the real onnxruntime build and this machine", async () => {
    const info = EngineInfo.parse(await getSystemInfo());
    const ort = await import("onnxruntime-node");
    expect(info.onnxruntimeVersion).toBe(ort.env.versions.node);
    expect(info.executionProviders.map((p) => p.name)).toContain("cpu");
    expect(info.cpu.cores).toBe(os.availableParallelism());
    expect(info.totalMemoryBytes).toBe(os.totalmem());
    const native = (await import("../kernels/index.js")).loadNativeKernels();
    expect(info.nativeKernels).toEqual({
      available: native.available,
      kernels: native.available ? native.kernels : [],
      detail: native.detail,
    });
    if (process.platform === "linux" && process.arch === "x64")
      expect(info.cpu.simd.length).toBeGreaterThan(0);
  });
});
