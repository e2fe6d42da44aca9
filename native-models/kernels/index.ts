// Loader for the native kernels (addon/, built by build-addon.mjs at install): whole decoder
// layers, the LM head and the CATS-sparse FFN. loadNativeKernels() never throws: when the addon
// is missing, stale, disabled or fails to load it returns { available: false, detail } and the
// engine runs on onnxruntime (slower; the app and the CLI say so).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { addonCandidates } from "./addon-location.js";
import type { FileReader } from "../convert/kept-file.js";
import type {
  FromFile,
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
export const NATIVE_ABI_VERSION = 7;
export { ADDON_FILE, ADDON_FROM_ROOT, addonCandidates, unpackedPath } from "./addon-location.js";

export interface AvailableNativeKernels {
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
  createFfn(
    weights: FromFile<SparseFfnWeights, "gate" | "up" | "down"> &
      SparseRunOptions & { form?: "rows" | "dense" },
  ): SparseFfn;
  /** Loads weights written by SparseFfn.save() (either form). */
  loadFfn(file: string, options?: SparseRunOptions): SparseFfn;
  /** How long idle pool workers spin for the next call before sleeping (0 µs until set; the engine sets it at load). */
  setSpinMicros(us: number): void;
  /** Diagnostics: best-of-`reps` streaming read bandwidth (GB/s) on the kernel's thread pool. */
  probeReadBandwidth(megabytes: number, threads: number, reps: number): number;
  /** The attention half of a decoder layer for decode-sized batches (see addon/src/attention.h). */
  createAttention(
    weights: FromFile<NativeAttentionWeights, "wqkv" | "wo"> & SparseRunOptions,
  ): NativeAttention;
  loadAttention(file: string, options?: SparseRunOptions): NativeAttention;
  /** A quantized linear layer (LM head with its final norm, exit heads). */
  createLinear(weights: FromFile<NativeLinearWeights, "weights"> & SparseRunOptions): NativeLinear;
  loadLinear(file: string, options?: SparseRunOptions): NativeLinear;
  /**
   * Reads a file once on a libuv thread (the import of a kept GGUF): its XXH3-128 (as
   * convert/source-hash.ts computes it), the non-finite units of each range, and a copy to `copyTo`.
   */
  readFile: FileReader;
}

export type NativeKernels = AvailableNativeKernels | { available: false; detail: string };

interface NativeAddon {
  abiVersion: number;
  kernels: string;
  createFfn(
    o: FromFile<SparseFfnWeights, "gate" | "up" | "down"> &
      SparseRunOptions & { order?: "interleaved" | "planar"; form?: "rows" | "dense" },
  ): SparseFfn;
  loadFfn(file: string, o?: SparseRunOptions): SparseFfn;
  setSpinMicros(us: number): void;
  probeReadBandwidth(megabytes: number, threads: number, reps: number): number;
  createAttention(o: FromFile<NativeAttentionWeights, "wqkv" | "wo"> & SparseRunOptions): NativeAttention;
  loadAttention(file: string, o?: SparseRunOptions): NativeAttention;
  createLinear(o: FromFile<NativeLinearWeights, "weights"> & SparseRunOptions): NativeLinear;
  loadLinear(file: string, o?: SparseRunOptions): NativeLinear;
  readFile: FileReader;
}

export interface LoadOptions {
  /** Explicit path to the .node file (tests inject bad paths here). */
  addonPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** The loader module's folder: native-models/kernels from source, dist/<bundle> when bundled. */
const moduleDir = () => path.dirname(fileURLToPath(import.meta.url));

/** An environment setting under its name, or under the name it had before the rename (still honoured). */
function setting(
  env: NodeJS.ProcessEnv,
  name: string,
  formerName: string,
): { name: string; value: string } | null {
  if (env[name] !== undefined && env[name] !== "") return { name, value: env[name]! };
  if (env[formerName] !== undefined && env[formerName] !== "")
    return { name: formerName, value: env[formerName]! };
  return null;
}

export function loadNativeKernels(options: LoadOptions = {}): NativeKernels {
  const env = options.env ?? process.env;
  const switched = setting(env, "EXITLANE_NATIVE", "EXITLANE_SPARSE");
  if (switched && ["off", "0"].includes(switched.value.toLowerCase()))
    return { available: false, detail: `disabled by ${switched.name}=${switched.value}` };
  const explicit = options.addonPath ?? setting(env, "EXITLANE_NATIVE_ADDON", "EXITLANE_SPARSE_ADDON")?.value;
  const searched = addonCandidates(moduleDir(), process.cwd());
  const file = explicit ?? searched.find((p) => existsSync(p));
  if (!file) {
    return {
      available: false,
      detail: `native kernels not found (looked in ${searched.join(", ")}; build them with \`node native-models/kernels/build-addon.mjs\`, which needs a C++17 compiler)`,
    };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return { available: false, detail: `native kernels at ${file} failed to load: ${reason}` };
  }
  if (addon?.abiVersion !== NATIVE_ABI_VERSION || typeof addon.createFfn !== "function") {
    return {
      available: false,
      detail: `native kernels at ${file} are stale (abi ${String(addon?.abiVersion)}, need ${NATIVE_ABI_VERSION}); rebuild them`,
    };
  }
  const kernels = addon.kernels.split(",");
  return {
    available: true,
    detail: `native kernels (${kernels[0]}) from ${file}`,
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
    readFile: (f, o) => addon.readFile(f, o),
  };
}
