import { ModelFormatError } from "./errors.js";
import { shortestF32 } from "./model-check.js";
import type { RopeScaling } from "./model-source.js";

// Reading typed hyperparameters from GGUF metadata (`<arch>.*` keys, as llama.cpp's llama-arch.cpp
// names them) and recovering rope scaling, including llama3-style scaling stored as rope_freqs.

export class GgufKeys {
  constructor(
    readonly meta: ReadonlyMap<string, unknown>,
    readonly file: string,
  ) {}

  int(key: string, fallback?: number): number {
    const v = this.meta.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelFormatError("bad_config", `metadata key ${key} is missing`, this.file);
    }
    if (Array.isArray(v))
      throw new ModelFormatError(
        "bad_config",
        `${key} is a per-layer array; only one value for all layers is supported`,
        this.file,
      );
    if (typeof v !== "number" || !Number.isSafeInteger(v))
      throw new ModelFormatError("bad_config", `${key} is ${describe(v)}; expected an integer`, this.file);
    return v;
  }

  float(key: string, fallback?: number): number {
    const v = this.meta.get(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new ModelFormatError("bad_config", `metadata key ${key} is missing`, this.file);
    }
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ModelFormatError(
        "bad_config",
        `${key} is ${describe(v)}; expected a finite number`,
        this.file,
      );
    return shortestF32(v);
  }

  str(key: string): string | undefined {
    const v = this.meta.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== "string")
      throw new ModelFormatError("bad_config", `${key} is ${describe(v)}; expected a string`, this.file);
    return v;
  }
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return String(v);
}

/** Rope scaling from `<arch>.rope.scaling.*` keys (and the legacy rope.scale_linear). */
export function ropeScalingFromKeys(k: GgufKeys, arch: string): RopeScaling | undefined {
  const type = k.str(`${arch}.rope.scaling.type`);
  const legacy = k.meta.get(`${arch}.rope.scale_linear`);
  if (type === undefined || type === "none") {
    if (legacy === undefined) return undefined;
    const factor = k.float(`${arch}.rope.scale_linear`);
    return factor === 1 ? undefined : { type: "linear", factor };
  }
  const factor = k.float(`${arch}.rope.scaling.factor`);
  if (type === "linear") return factor === 1 ? undefined : { type, factor };
  if (type === "llama3") {
    return {
      type,
      factor,
      lowFreqFactor: k.float(`${arch}.rope.scaling.low_freq_factor`, 1),
      highFreqFactor: k.float(`${arch}.rope.scaling.high_freq_factor`, 4),
      originalContextLength: k.int(`${arch}.rope.scaling.original_context_length`, 8192),
    };
  }
  throw new ModelFormatError(
    "bad_config",
    `rope scaling type "${type}" is not supported (supported: linear, llama3)`,
    k.file,
  );
}

/** The per-frequency divisors llama3 scaling applies (what llama.cpp's converter stores as rope_freqs). */
export function llama3Factors(
  s: Extract<RopeScaling, { type: "llama3" }>,
  headDim: number,
  theta: number,
): number[] {
  const lowWavelen = s.originalContextLength / s.lowFreqFactor;
  const highWavelen = s.originalContextLength / s.highFreqFactor;
  const out: number[] = [];
  for (let i = 0; i < headDim; i += 2) {
    const wavelen = (2 * Math.PI) / theta ** (-i / headDim);
    if (wavelen < highWavelen) out.push(1);
    else if (wavelen > lowWavelen) out.push(s.factor);
    else {
      const smooth =
        (s.originalContextLength / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out.push(1 / ((1 - smooth) / s.factor + smooth));
    }
  }
  return out;
}

/**
 * Recovers llama3 scaling parameters from a rope_freqs tensor. The factors only depend on the factor
 * and on the line smooth(1/wavelen) through the medium band, so any original context length gives
 * the same factors; we use the file's key (or Llama 3's 8192) and solve for the two freq factors.
 * The result is verified by recomputing the factors.
 */
export function ropeScalingFromFreqs(
  freqs: Float32Array,
  headDim: number,
  theta: number,
  origCtx: number,
  file: string,
): RopeScaling | undefined {
  const f = Array.from(freqs);
  if (f.every((x) => Math.abs(x - 1) < 1e-6)) return undefined;
  const factor = Math.max(...f);
  const xs: number[] = [];
  const ys: number[] = [];
  f.forEach((r, j) => {
    if (r > 1 + 1e-6 && r < factor - 1e-6) {
      xs.push(1 / ((2 * Math.PI) / theta ** (-(2 * j) / headDim)));
      ys.push((1 / r - 1 / factor) / (1 - 1 / factor));
    }
  });
  let low = 1;
  let high = 4;
  if (xs.length >= 2) {
    // Least squares for smooth = a/wavelen - b; then L/(hf-lf) = a and lf/(hf-lf) = b.
    const n = xs.length;
    const mx = xs.reduce((s, x) => s + x, 0) / n;
    const my = ys.reduce((s, y) => s + y, 0) / n;
    const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    const a = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx;
    const b = a * mx - my;
    low = Number(((b * origCtx) / a).toPrecision(6));
    high = Number((low + origCtx / a).toPrecision(6));
  }
  const s = {
    type: "llama3" as const,
    factor: shortestF32(factor),
    lowFreqFactor: low,
    highFreqFactor: high,
    originalContextLength: origCtx,
  };
  const again = llama3Factors(s, headDim, theta);
  if (!(high > low) || again.length !== f.length || again.some((x, i) => Math.abs(x - f[i]) > 1e-3 * f[i])) {
    throw new ModelFormatError(
      "bad_tensor",
      "rope_freqs.weight does not follow llama3 rope scaling, the only per-frequency scaling supported",
      file,
    );
  }
  return s;
}

/**
 * Phi-3's LongRoPE as llama.cpp's converter stores it: rope_factors_short/long tensors (one divisor
 * per rotating pair), `<arch>.rope.scaling.original_context_length` (llama.cpp falls back to the
 * trained context) and `<arch>.rope.scaling.attn_factor` (default 1). Neither tensor: no scaling.
 */
export async function longRopeFromGguf<T extends { name: string; nElements: number }>(
  k: GgufKeys,
  arch: string,
  tensors: ReadonlyMap<string, T>,
  rotaryDim: number,
  read: (t: T) => Promise<Float32Array>,
): Promise<RopeScaling | undefined> {
  const short = tensors.get("rope_factors_short.weight");
  const long = tensors.get("rope_factors_long.weight");
  if (!short && !long) {
    const type = k.str(`${arch}.rope.scaling.type`);
    return type === "longrope" || type === "su" ? undefined : ropeScalingFromKeys(k, arch);
  }
  if (!short || !long)
    throw new ModelFormatError(
      "bad_tensor",
      `${(short ?? long)!.name} is present without its ${short ? "long" : "short"} counterpart`,
      k.file,
    );
  const factors = async (t: T) => {
    if (t.nElements !== rotaryDim / 2)
      throw new ModelFormatError(
        "bad_tensor",
        `${t.name} has ${t.nElements} values, expected ${rotaryDim / 2} (one per rotating pair)`,
        k.file,
      );
    const f = Array.from(await read(t), shortestF32);
    if (!f.every((x) => x > 0))
      throw new ModelFormatError("bad_tensor", `${t.name} has a factor that is not positive`, k.file);
    return f;
  };
  return {
    type: "longrope",
    shortFactor: await factors(short),
    longFactor: await factors(long),
    originalContextLength: k.int(
      `${arch}.rope.scaling.original_context_length`,
      k.int(`${arch}.context_length`),
    ),
    attentionFactor: k.float(`${arch}.rope.scaling.attn_factor`, 1),
  };
}
