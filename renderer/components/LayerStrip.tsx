import { memo, useMemo, useState, type MouseEvent } from "react";
import type { ExitTelemetry } from "../../electron/contract";
import { layerBucket } from "../state/charts";
import { stripCells, type StripCell } from "../state/layerStripCells";

function describe(i: number, text: string, layer: number, layers: number) {
  return `Token ${i + 1} ${JSON.stringify(text)}: exit layer ${layer}${layers ? ` of ${layers}` : ""}`;
}

function describeCell(cell: StripCell, texts: readonly string[], layers: number) {
  if (cell.count === 1) return describe(cell.start, texts[cell.start] ?? "", cell.layer, layers);
  return `Tokens ${cell.start + 1}–${cell.start + cell.count}: mean exit layer ${cell.layer.toFixed(1)}${layers ? ` of ${layers}` : ""}`;
}

/**
 * The layer strip under an answer: one cell per generated token, coloured by the layer it exited
 * at (teal = early, violet = full depth), in rows so that long answers keep cells wide enough to
 * see (very long ones group neighbouring tokens per cell). Hovering a cell names its token(s).
 */
export const LayerStrip = memo(function LayerStrip({
  exitLayers,
  tokenTexts,
  layers,
  meanExitLayer,
}: {
  exitLayers: readonly number[];
  tokenTexts: readonly string[];
  layers: number;
  meanExitLayer: number;
}) {
  const [hover, setHover] = useState<string | null>(null);
  const rows = useMemo(() => stripCells(exitLayers), [exitLayers]);
  if (exitLayers.length === 0) return null;
  const onOver = (e: MouseEvent<HTMLDivElement>) => {
    const title = (e.target as HTMLElement).title;
    if ((e.target as HTMLElement).classList.contains("cell")) setHover(title);
  };
  const grouped = rows[0]?.[0]?.count ?? 1;
  return (
    <div className="layer-strip-wrap">
      <div
        className="layer-strip"
        role="img"
        aria-label={`Exit layer of each of ${exitLayers.length} tokens${grouped > 1 ? ` (${grouped} tokens per cell)` : ""}; mean ${meanExitLayer.toFixed(1)}${layers ? ` of ${layers} layers` : ""}`}
        data-testid="layer-strip"
        data-rows={rows.length}
        onMouseOver={onOver}
        onMouseLeave={() => setHover(null)}
      >
        {rows.map((row, r) => (
          <div className="layer-strip-row" key={r}>
            {row.map((cell) => (
              <span
                key={cell.start}
                className={`cell depth-${layerBucket(cell.layer, layers)}`}
                title={describeCell(cell, tokenTexts, layers)}
              />
            ))}
          </div>
        ))}
      </div>
      <div className="layer-strip-detail" aria-hidden="true">
        {hover ?? ""}
      </div>
    </div>
  );
});

/** What the exit machinery did for a token, in words: the layers it checked and the time it took. */
export function describeExit(exit: ExitTelemetry | null | undefined): string {
  if (!exit) return "";
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  const parts = [
    exit.checkedLayers.length ? `checked layers ${exit.checkedLayers.join(", ")}` : "no exit checks",
    `checks ${ms(exit.predictorMs)}`,
  ];
  if (exit.verifyMs > 0) parts.push(`verification ${ms(exit.verifyMs)}`);
  if (exit.draftMs > 0) parts.push(`drafting ${ms(exit.draftMs)}`);
  return parts.join(" · ");
}

/**
 * The answer as its tokens, each tinted by exit depth; hovering one names its exit layer and, in
 * the live answer, what the exit machinery did for it (checked layers, their time).
 */
export const TokenView = memo(function TokenView({
  exitLayers,
  tokenTexts,
  tokenExits,
  layers,
}: {
  exitLayers: readonly number[];
  tokenTexts: readonly string[];
  tokenExits: readonly (ExitTelemetry | null)[];
  layers: number;
}) {
  return (
    <div className="token-view" data-testid="token-view">
      {tokenTexts.map((text, i) => {
        const exit = describeExit(tokenExits[i]);
        return (
          <span
            key={i}
            className={`token depth-${layerBucket(exitLayers[i] ?? layers, layers)}`}
            title={`exit layer ${exitLayers[i]}${layers ? ` of ${layers}` : ""}${exit ? ` · ${exit}` : ""}`}
            data-exit-layer={exitLayers[i]}
          >
            {text}
          </span>
        );
      })}
    </div>
  );
});
