import { memo, useState, type MouseEvent } from "react";
import { layerBucket } from "../state/charts";

function describe(i: number, text: string, layer: number, layers: number) {
  return `Token ${i + 1} ${JSON.stringify(text)}: exit layer ${layer}${layers ? ` of ${layers}` : ""}`;
}

/**
 * The layer strip under an answer: one cell per generated token, coloured by the layer it exited
 * at (teal = early, violet = full depth). Hovering a cell names the token and its exit layer.
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
  const [hover, setHover] = useState<number | null>(null);
  if (exitLayers.length === 0) return null;
  const onOver = (e: MouseEvent<HTMLDivElement>) => {
    const i = (e.target as HTMLElement).dataset?.i;
    if (i !== undefined) setHover(Number(i));
  };
  return (
    <div className="layer-strip-wrap">
      <div
        className="layer-strip"
        role="img"
        aria-label={`Exit layer of each of ${exitLayers.length} tokens; mean ${meanExitLayer.toFixed(1)}${layers ? ` of ${layers} layers` : ""}`}
        data-testid="layer-strip"
        onMouseOver={onOver}
        onMouseLeave={() => setHover(null)}
      >
        {exitLayers.map((layer, i) => (
          <span
            key={i}
            data-i={i}
            className={`cell depth-${layerBucket(layer, layers)}`}
            title={describe(i, tokenTexts[i] ?? "", layer, layers)}
          />
        ))}
      </div>
      <div className="layer-strip-detail" aria-hidden="true">
        {hover !== null && hover < exitLayers.length
          ? describe(hover, tokenTexts[hover] ?? "", exitLayers[hover], layers)
          : ""}
      </div>
    </div>
  );
});

/** The answer as its tokens, each tinted by exit depth, with its exit layer on hover. */
export const TokenView = memo(function TokenView({
  exitLayers,
  tokenTexts,
  layers,
}: {
  exitLayers: readonly number[];
  tokenTexts: readonly string[];
  layers: number;
}) {
  return (
    <div className="token-view" data-testid="token-view">
      {tokenTexts.map((text, i) => (
        <span
          key={i}
          className={`token depth-${layerBucket(exitLayers[i] ?? layers, layers)}`}
          title={`exit layer ${exitLayers[i]}${layers ? ` of ${layers}` : ""}`}
          data-exit-layer={exitLayers[i]}
        >
          {text}
        </span>
      ))}
    </div>
  );
});
