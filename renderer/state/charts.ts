// Chart data as pure functions of a message's token arrays. Charts call these once per animation
// frame at most (token events are batched), so they must be linear and allocation-light.

export interface ExitPoint {
  /** 1-based token number. */
  token: number;
  layer: number;
}

/** One point per generated token: its exit layer. */
export function exitLayerSeries(exitLayers: readonly number[]): ExitPoint[] {
  const out = new Array<ExitPoint>(exitLayers.length);
  for (let i = 0; i < exitLayers.length; i++) out[i] = { token: i + 1, layer: exitLayers[i] };
  return out;
}

export interface RatePoint {
  /** Seconds since the first token arrived. */
  t: number;
  tokensPerSecond: number;
}

/**
 * Tokens per second over time, a moving average over the last `window` tokens. `tokenMs[i]` is the
 * time spent on token i; token 0 also carries the prompt (time to first token), so the curve starts
 * at token 1 and the time axis starts when the first token appeared.
 */
export function tokensPerSecondSeries(tokenMs: readonly number[], window = 8): RatePoint[] {
  const out: RatePoint[] = [];
  let elapsed = 0;
  let sum = 0;
  for (let i = 1; i < tokenMs.length; i++) {
    const ms = Math.max(0, tokenMs[i]);
    elapsed += ms;
    sum += ms;
    if (i - window >= 1) sum -= Math.max(0, tokenMs[i - window]);
    const count = Math.min(i, window);
    out.push({ t: round(elapsed / 1000, 3), tokensPerSecond: sum > 0 ? round((count * 1000) / sum, 2) : 0 });
  }
  return out;
}

export interface HistogramBin {
  layer: number;
  count: number;
}

/**
 * Exit-layer histogram with one bin per layer from 1 to the model's layer count (a 0 bin appears only
 * when the engine reports layer 0, and bins beyond `layers` only when a token reports one).
 */
export function exitHistogram(exitLayers: readonly number[], layers: number): HistogramBin[] {
  let min = 1;
  let max = Math.max(1, layers);
  for (const l of exitLayers) {
    if (l < min) min = l;
    if (l > max) max = l;
  }
  const counts = new Array<number>(max - min + 1).fill(0);
  for (const l of exitLayers) counts[l - min]++;
  return counts.map((count, i) => ({ layer: min + i, count }));
}

/** Share of tokens that left before the last layer (0..1). */
export function earlyExitShare(exitLayers: readonly number[], layers: number): number {
  if (!exitLayers.length || layers <= 0) return 0;
  let early = 0;
  for (const l of exitLayers) if (l < layers) early++;
  return early / exitLayers.length;
}

/**
 * Colour of a token by exit depth: shallow exits (fast) are teal, full depth is violet. Lightness
 * stays in a band that reads on both the light and the dark theme.
 */
export function layerColor(exitLayer: number, layers: number): string {
  const depth = layers > 1 ? clamp((exitLayer - 1) / (layers - 1), 0, 1) : 1;
  const hue = Math.round(170 + depth * 100); // 170 teal -> 270 violet
  const light = Math.round(58 - depth * 8);
  return `hsl(${hue} 65% ${light}%)`;
}

/** Keeps the last `max` items (charts of very long answers stay bounded in the DOM). */
export function tail<T>(items: readonly T[], max: number): readonly T[] {
  return items.length > max ? items.slice(items.length - max) : items;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Number of colour steps of the layer strip (CSS classes depth-0 … depth-9). */
export const DEPTH_BUCKETS = 10;

/** Colour step of a token by exit depth: 0 = the first layer, DEPTH_BUCKETS-1 = full depth. */
export function layerBucket(exitLayer: number, layers: number): number {
  if (layers <= 1) return DEPTH_BUCKETS - 1;
  const depth = clamp((exitLayer - 1) / (layers - 1), 0, 1);
  return Math.min(DEPTH_BUCKETS - 1, Math.round(depth * (DEPTH_BUCKETS - 1)));
}

/**
 * Ticks for a time axis from 0 to `maxSeconds`: a round step (0.1, 0.2, 0.5, 1, 2, 5 … s) giving
 * at most `most` ticks, so no two ticks ever print the same label.
 */
export function timeTicks(maxSeconds: number, most = 6): number[] {
  if (!(maxSeconds > 0)) return [0];
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  const step = steps.find((s) => maxSeconds / s <= most - 1) ?? Math.ceil(maxSeconds / (most - 1));
  const ticks: number[] = [];
  for (let i = 0; i * step <= maxSeconds + 1e-9; i++) ticks.push(round(i * step, 1));
  return ticks;
}

/** A tick's label: "0.5s", "2s", "1m 30s". */
export function formatTick(seconds: number): string {
  if (seconds >= 60) {
    const m = Math.floor(seconds / 60);
    const s = Math.round(seconds - m * 60);
    return s ? `${m}m ${s}s` : `${m}m`;
  }
  return `${Number(seconds.toFixed(1))}s`;
}
