import { UsageError } from "./args.js";

/** The knob value the CLI uses when --exit is given without a value (also the app's default). */
export const DEFAULT_KNOB = 0.5;

/** `--exit` may stand alone: give it the default value so strict flag parsing accepts it. */
export function withExitDefault(argv: string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    if (out[i] === "--exit" && (i + 1 >= out.length || out[i + 1].startsWith("--")))
      out.splice(i + 1, 0, String(DEFAULT_KNOB));
  }
  return out;
}

/** "off" / 0 -> undefined (full depth); otherwise a knob value in (0, 1]. */
export function parseExit(value: string | undefined): number | undefined {
  const mode = parseExitMode(value);
  if (mode === "lossless")
    throw new UsageError(
      `--exit lossless only applies to generate and bench (it gives exactly the full-depth tokens, so there is no agreement to evaluate)`,
    );
  return mode;
}

/** Like parseExit, but also "lossless": speculative decoding whose output is exactly full depth's. */
export function parseExitMode(value: string | undefined): number | "lossless" | undefined {
  if (value === "lossless") return "lossless";
  if (value === undefined || value === "off") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`--exit must be "off", "lossless" or a number in [0, 1], got "${value}"`);
  return n === 0 ? undefined : n;
}
