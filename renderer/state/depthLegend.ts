// Colours by exit depth, shared by the exit histogram's bars and its legend so the two cannot
// disagree: each colour step the bars use appears once in the legend, named by its layers.
import { layerBucket, type HistogramBin } from "./charts";

/** The fill of a bar, swatch or cell at a colour step (CSS custom properties of both themes). */
export function depthFill(bucket: number): string {
  return `var(--depth-${bucket})`;
}

export interface LegendEntry {
  bucket: number;
  fill: string;
  /** "layer 3", "layers 1–2", "layer 16 (full depth)". */
  label: string;
}

/** One entry per colour step the histogram's bars use, in bar order. */
export function depthLegend(histogram: readonly HistogramBin[], layers: number): LegendEntry[] {
  const groups: { bucket: number; from: number; to: number }[] = [];
  for (const bin of histogram) {
    const bucket = layerBucket(bin.layer, layers);
    const last = groups[groups.length - 1];
    if (last && last.bucket === bucket) last.to = bin.layer;
    else groups.push({ bucket, from: bin.layer, to: bin.layer });
  }
  return groups.map((g) => {
    const range = g.from === g.to ? `layer ${g.from}` : `layers ${g.from}–${g.to}`;
    return {
      bucket: g.bucket,
      fill: depthFill(g.bucket),
      label: g.to >= layers ? `${range} (full depth)` : range,
    };
  });
}
