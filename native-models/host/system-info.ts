// Facts about this machine and the ONNX Runtime build, for the About panel and for choosing
// threads and kernels. Everything here is read locally; nothing is sent anywhere.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { loadNativeKernels } from "../kernels/index.js";
import type { EngineInfo } from "./protocol.js";
import { onnxRuntimeFacts } from "./provider-probe.js";

/** SIMD features that matter to CPU inference, in a stable display order. */
const X86_FEATURES = [
  "sse4_1",
  "sse4_2",
  "avx",
  "avx2",
  "fma",
  "f16c",
  "avx_vnni",
  "avx512f",
  "avx512bw",
  "avx512vl",
  "avx512_vnni",
  "avx512_bf16",
  "avx512_fp16",
  "amx_tile",
  "amx_int8",
  "amx_bf16",
] as const;

/** ARM names as Linux reports them, mapped to the names people know. */
const ARM_FEATURES: Record<string, string> = {
  asimd: "neon",
  asimdhp: "fp16",
  asimddp: "dotprod",
  i8mm: "i8mm",
  bf16: "bf16",
  sve: "sve",
  sve2: "sve2",
  sme: "sme",
};

/** Linux: the `flags` (x86) or `Features` (ARM) line of /proc/cpuinfo. */
export function parseLinuxCpuFeatures(cpuinfo: string): string[] {
  const line = cpuinfo.split("\n").find((l) => /^(flags|Features)\s*:/.test(l));
  if (!line) return [];
  const present = new Set(
    line
      .slice(line.indexOf(":") + 1)
      .trim()
      .split(/\s+/),
  );
  const x86 = X86_FEATURES.filter((f) => present.has(f));
  const arm = Object.entries(ARM_FEATURES)
    .filter(([name]) => present.has(name))
    .map(([, label]) => label);
  return [...x86, ...arm];
}

/** macOS: `sysctl hw.optional` lines such as `hw.optional.avx2_0: 1` or `hw.optional.arm.FEAT_DotProd: 1`. */
export function parseMacSysctl(text: string): string[] {
  const on = new Set(
    text
      .split("\n")
      .map((l) => l.match(/^hw\.optional\.([\w.]+):\s*1\s*$/)?.[1])
      .filter((k): k is string => Boolean(k)),
  );
  const mac: Array<[string, string]> = [
    ["sse4_1", "sse4_1"],
    ["sse4_2", "sse4_2"],
    ["avx1_0", "avx"],
    ["avx2_0", "avx2"],
    ["fma", "fma"],
    ["f16c", "f16c"],
    ["avx512f", "avx512f"],
    ["avx512bw", "avx512bw"],
    ["avx512vl", "avx512vl"],
    ["avx512vnni", "avx512_vnni"],
    ["neon", "neon"],
    ["arm.FEAT_FP16", "fp16"],
    ["arm.FEAT_DotProd", "dotprod"],
    ["arm.FEAT_I8MM", "i8mm"],
    ["arm.FEAT_BF16", "bf16"],
    ["arm.FEAT_SME", "sme"],
  ];
  const found = mac.filter(([key]) => on.has(key)).map(([, label]) => label);
  // Every Apple Silicon Mac has NEON even when the sysctl key is absent.
  if (on.has("arm.FEAT_DotProd") && !found.includes("neon")) found.unshift("neon");
  return found;
}

/**
 * Best effort per platform. Windows has no text source without native code, so it reports the
 * features every CPU of that architecture must have (x64: SSE2, arm64: NEON) and nothing more.
 */
export function detectSimd(platform = process.platform, arch = process.arch): string[] {
  try {
    if (platform === "linux") return parseLinuxCpuFeatures(readFileSync("/proc/cpuinfo", "utf8"));
    if (platform === "darwin")
      return parseMacSysctl(execFileSync("sysctl", ["hw.optional"], { encoding: "utf8", timeout: 2000 }));
  } catch {
    // Unreadable on this system: fall through to the architectural baseline.
  }
  if (arch === "x64") return ["sse2"];
  if (arch === "arm64") return ["neon"];
  return [];
}

export async function getSystemInfo(): Promise<EngineInfo> {
  const ort = await onnxRuntimeFacts();
  const cpus = os.cpus();
  return {
    onnxruntimeVersion: ort.version,
    executionProviders: ort.providers,
    cpu: {
      model: cpus[0]?.model.trim() || "unknown",
      // Logical processors this process may run on: what a thread-count setting can use.
      cores: os.availableParallelism(),
      simd: detectSimd(),
      arch: process.arch,
    },
    totalMemoryBytes: os.totalmem(),
    platform: process.platform,
    nativeKernels: nativeKernelsStatus(),
    hostPid: process.pid,
  };
}

/** Whether the native kernels load here (loadNativeKernels never throws; see kernels/index.ts). */
function nativeKernelsStatus(): EngineInfo["nativeKernels"] {
  const kernel = loadNativeKernels();
  return {
    available: kernel.available,
    kernels: kernel.available ? kernel.kernels : [],
    detail: kernel.detail,
  };
}
