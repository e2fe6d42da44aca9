import { UsageError } from "./args.js";

/** `--sparsity off` → onnxruntime's dense layers; a number → native sparse FFNs at that share of skipped neurons. */
export function parseSparsity(value: string | undefined): {
  load: boolean | undefined;
  level: number | undefined;
} {
  if (value === undefined) return { load: undefined, level: undefined };
  if (value === "off") return { load: false, level: undefined };
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.95)
    throw new UsageError(`--sparsity must be "off" or a number in [0, 0.95], got "${value}"`);
  return { load: true, level: n };
}
