// Loader for the native sparse FFN kernel (addon/, built by build-addon.mjs at install).
// loadSparseKernel() never throws: when the addon is missing, stale, disabled or fails to load it
// returns { available: false, detail } and the engine keeps its dense onnxruntime FFN.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type {
  NativeAttention,
  NativeAttentionWeights,
  NativeLinear,
  NativeLinearWeights,
  SparseFfn,
  SparseFfnWeights,
  SparseRunOptions,
} from "./types.js";

export type * from "./types.js";

/** Bumped with the addon's `abiVersion` whenever the JS/native contract changes. */
export const SPARSE_ABI_VERSION = 3;
export const ADDON_FILE = "exitlane_sparse.node";

export interface AvailableSparseKernel {
  available: true;
  /** One line for logs and `bench`: where it loaded from and which kernel sets this CPU runs. */
  detail: string;
  path: string;
  /** Kernel sets this CPU can run, best first, e.g. ["avx512-vnni", "avx2", "scalar"]. */
  kernels: string[];
  /**
   * Quantizes and lays out one FFN (TinyLlama size: ~0.1-0.3 s with 2 threads): as per-neuron rows
   * (sparse passes), or with `form: "dense"` only as packed matrices (dense passes, several rows
   * per weight load).
   */
  createFfn(weights: SparseFfnWeights & SparseRunOptions & { form?: "rows" | "dense" }): SparseFfn;
  /** Loads weights written by SparseFfn.save() (either form). */
  loadFfn(file: string, options?: SparseRunOptions): SparseFfn;
  /** How long idle pool workers spin for the next call before sleeping (0 µs until set; the engine sets it at load). */
  setSpinMicros(us: number): void;
  /** Diagnostics: best-of-`reps` streaming read bandwidth (GB/s) on the kernel's thread pool. */
  probeReadBandwidth(megabytes: number, threads: number, reps: number): number;
  /** The attention half of a decoder layer for decode-sized batches (see addon/src/attention.h). */
  createAttention(weights: NativeAttentionWeights & SparseRunOptions): NativeAttention;
  loadAttention(file: string, options?: SparseRunOptions): NativeAttention;
  /** A quantized linear layer (LM head with its final norm, exit heads). */
  createLinear(weights: NativeLinearWeights & SparseRunOptions): NativeLinear;
  loadLinear(file: string, options?: SparseRunOptions): NativeLinear;
}

export type SparseKernel = AvailableSparseKernel | { available: false; detail: string };

interface NativeAddon {
  abiVersion: number;
  kernels: string;
  createFfn(
    o: SparseFfnWeights & SparseRunOptions & { order?: "interleaved" | "planar"; form?: "rows" | "dense" },
  ): SparseFfn;
  loadFfn(file: string, o?: SparseRunOptions): SparseFfn;
  setSpinMicros(us: number): void;
  probeReadBandwidth(megabytes: number, threads: number, reps: number): number;
  createAttention(o: NativeAttentionWeights & SparseRunOptions): NativeAttention;
  loadAttention(file: string, o?: SparseRunOptions): NativeAttention;
  createLinear(o: NativeLinearWeights & SparseRunOptions): NativeLinear;
  loadLinear(file: string, o?: SparseRunOptions): NativeLinear;
}

export interface LoadOptions {
  /** Explicit path to the .node file (tests inject bad paths here). */
  addonPath?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where the built addon may be: next to this source file (tsx, vitest), or below the repository
 * root when this module is bundled into dist/<bundle>/ (import.meta.url is then the bundle's).
 */
export function addonCandidates(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rel = path.join("addon", "build", "Release", ADDON_FILE);
  return [
    path.join(here, rel),
    path.join(here, "..", "..", "native-models", "sparse", rel),
    path.join(process.cwd(), "native-models", "sparse", rel),
  ];
}

export function loadSparseKernel(options: LoadOptions = {}): SparseKernel {
  const env = options.env ?? process.env;
  const setting = env.EXITLANE_SPARSE?.toLowerCase();
  if (setting === "off" || setting === "0")
    return { available: false, detail: `disabled by EXITLANE_SPARSE=${env.EXITLANE_SPARSE}` };
  const explicit = options.addonPath ?? env.EXITLANE_SPARSE_ADDON;
  const file = explicit ?? addonCandidates().find((p) => existsSync(p));
  if (!file) {
    return {
      available: false,
      detail:
        "native sparse kernel not built (run `node native-models/kernels/build-addon.mjs`; needs a C++17 compiler)",
    };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return { available: false, detail: `native sparse kernel at ${file} failed to load: ${reason}` };
  }
  if (addon?.abiVersion !== SPARSE_ABI_VERSION || typeof addon.createFfn !== "function") {
    return {
      available: false,
      detail: `native sparse kernel at ${file} is stale (abi ${String(addon?.abiVersion)}, need ${SPARSE_ABI_VERSION}); rebuild it`,
    };
  }
  const kernels = addon.kernels.split(",");
  return {
    available: true,
    detail: `native sparse kernel (${kernels[0]}) from ${file}`,
    path: file,
    kernels,
    createFfn: (w) => addon.createFfn(w),
    loadFfn: (f, o) => addon.loadFfn(f, o),
    setSpinMicros: (us) => addon.setSpinMicros(us),
    probeReadBandwidth: (mb, t, reps) => addon.probeReadBandwidth(mb, t, reps),
    createAttention: (w) => addon.createAttention(w),
    loadAttention: (f, o) => addon.loadAttention(f, o),
    createLinear: (w) => addon.createLinear(w),
    loadLinear: (f, o) => addon.loadLinear(f, o),
  };
}
