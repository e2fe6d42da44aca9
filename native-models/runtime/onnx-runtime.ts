// onnxruntime-node, loaded on first use. The native kernels run most packages without it, and
// loading it costs every engine process about 12 MB of resident memory (its library and what it
// allocates at start), which a one-copy model's footprint should not carry.
import type * as Ort from "onnxruntime-node";

export type OnnxRuntime = typeof Ort;

let loading: Promise<OnnxRuntime> | null = null;

export function loadOnnxRuntime(): Promise<OnnxRuntime> {
  // A CommonJS package: under ESM its namespace may carry the exports only on `default`.
  loading ??= import("onnxruntime-node").then(
    (m) => ((m as { default?: OnnxRuntime }).default ?? m) as OnnxRuntime,
  );
  return loading;
}
