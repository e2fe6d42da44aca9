import { readFileSync } from "node:fs";

// The fixed English text both engines tokenize for the benchmark prompt. Long enough that a
// 128-token prompt needs no repetition (a repeated prompt would flatter prompt-lookup drafting).
export const BENCH_TEXT =
  "The old lighthouse keeper climbed the spiral stairs every evening at dusk, counting each step aloud. " +
  "He trimmed the wick, polished the great lens, and wrote the weather in a leather notebook: wind from the " +
  "north-west, a light swell, three fishing boats returning late. In the morning he walked along the shore " +
  "collecting driftwood, glass floats and the occasional letter sealed in a bottle. Most of the letters were " +
  "from children who wanted to know whether anyone lived at the edge of the map, and he answered every one. " +
  "Winters were long. Supplies came once a month on a grey boat whose captain never stayed for tea, though " +
  "he always asked about the gulls. There were two hundred and twelve of them by the keeper's last count, " +
  "and one with a crooked wing that followed him to the well and back. On clear nights he could see the " +
  "lights of the mainland town, small and yellow, and on foggy ones he rang the bell by hand until dawn. ";

/** BOS (if any) + the text's tokens repeated until the prompt has exactly `n` tokens. */
export function benchPrompt(textIds: readonly number[], n: number, bos: number | undefined): number[] {
  if (textIds.length === 0) throw new Error("the benchmark text tokenizes to nothing");
  const out: number[] = bos === undefined ? [] : [bos];
  while (out.length < n) out.push(...textIds);
  return out.slice(0, n);
}

export function peakRssMB(): number | null {
  try {
    // VmHWM: the process's peak resident set, the honest "memory needed" figure.
    const status = readFileSync("/proc/self/status", "utf8");
    const m = status.match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
