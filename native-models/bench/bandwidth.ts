// How close a decode runs to the memory bus: batch-1 decode reads every weight once per token, so
// "bytes of weights read per token × tokens/s" against the machine's sustained read bandwidth is
// the share of the physical limit an engine reaches.
import { stat } from "node:fs/promises";
import path from "node:path";
import { readGgufTensors } from "../formats/gguf.js";
import type { Manifest } from "../package/manifest.js";
import { keptFileFormBytes } from "../runtime/kept-file-layout.js";
import { loadNativeKernels } from "../kernels/index.js";

/**
 * Best-of-3 multi-threaded streaming read over 1 GiB (far beyond the caches) on the native
 * kernels' thread pool, in GB/s; null without the native addon.
 */
export function readBandwidthGBps(threads: number): number | null {
  const kernel = loadNativeKernels();
  return kernel.available ? kernel.probeReadBandwidth(1024, threads, 3) : null;
}

/**
 * Bytes a full-depth decode token of our engine reads: every layer and the head in the form the
 * engine loads (the native kernels' files when the package has them and the addon loads, else
 * onnxruntime's), not the embedding table (one row per token).
 */
export async function engineBytesPerToken(dir: string, m: Manifest): Promise<number> {
  const L = m.config.numLayers;
  const sp = m.native;
  if (sp?.kept && loadNativeKernels().available) return keptFileFormBytes(dir, m);
  const native = !!sp && sp.attention?.length === L && !!sp.head && loadNativeKernels().available;
  const files = native
    ? [...sp.attention!, ...(sp.dense?.length === L ? sp.dense : sp.ffn), sp.head!]
    : [...m.graphs.layers, m.graphs.head].map((f) => f.replace(/\.onnx$/, ".bin"));
  return filesBytes(dir, files);
}

/** Total size of `files` (relative to `dir`). */
export async function filesBytes(dir: string, files: readonly string[]): Promise<number> {
  let total = 0;
  for (const f of files) total += (await stat(path.join(dir, f))).size;
  return total;
}

/** Bytes a llama.cpp decode token reads from this GGUF: every tensor but the embedding table (unless it is also the head). */
export async function ggufBytesPerToken(gguf: string): Promise<number> {
  const tensors = await readGgufTensors(gguf);
  const tied = !tensors.has("output.weight");
  let total = 0;
  for (const [name, t] of tensors) if (tied || name !== "token_embd.weight") total += t.byteSize;
  return total;
}

/** Decode as bandwidth: GB/s drawn and its share of the measured limit. */
export function bandwidthUse(bytesPerToken: number, tokensPerSecond: number, limitGBps: number | null) {
  const gbps = (bytesPerToken * tokensPerSecond) / 1e9;
  return {
    bytesPerToken,
    weightReadGBps: Math.round(gbps * 100) / 100,
    ...(limitGBps ? { percentOfReadBandwidth: Math.round((1000 * gbps) / limitGBps) / 10 } : {}),
  };
}
