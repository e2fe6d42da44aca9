import { memo, useDeferredValue, useMemo } from "react";
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import {
  exitHistogram,
  exitLayerSeries,
  layerBucket,
  tokensPerSecondSeries,
  timeTicks,
  formatTick,
} from "../state/charts";
import { useApp } from "../state/context";
import { depthFill, depthLegend } from "../state/depthLegend";
import { useThrottledValue } from "../state/useThrottled";
import { formatRate } from "../state/format";
import { answerStats } from "../state/answerStats";
import type { AppState } from "../state/store";
import type { UiMessage } from "../state/types";

const CHART_HEIGHT = 150;
const CHART_INTERVAL_MS = 150;
const initialDimension = { width: 300, height: CHART_HEIGHT };
const axisTick = { fontSize: 11, fill: "var(--fg-muted)" };
const tooltipStyle = {
  background: "var(--bg-elev)",
  border: "1px solid var(--border)",
  borderRadius: 8,
  fontSize: 12,
  color: "var(--fg)",
};

/**
 * Live charts of one answer (the streaming one, else the one picked with "Show in charts", else the
 * latest): exit layer of every token, tokens/s over time, and the exit-layer histogram. The store
 * updates at most once per animation frame and the chart data is deferred, so streaming never
 * waits for the charts; animations are off so each frame only redraws.
 */
/** The answer the charts are about, as the store holds it now. */
function chartedMessage(s: AppState): UiMessage | null {
  const id = s.chartMessageId;
  const chosen = id ? s.messages.find((m) => m.id === id) : undefined;
  if (chosen) return chosen;
  for (let i = s.messages.length - 1; i >= 0; i--)
    if (s.messages[i].role === "assistant") return s.messages[i];
  return null;
}

export function LiveCharts() {
  const message = useApp(chartedMessage);
  // While an answer streams the charts redraw a few times a second (the text and the layer strip
  // keep every frame); the finished answer is drawn at once.
  // Longer answers redraw less often: the cost of a redraw grows with the number of points.
  const interval = CHART_INTERVAL_MS + Math.min(350, (message?.exitLayers.length ?? 0) / 5);
  const throttled = useThrottledValue(message, interval, message?.streaming ?? false);
  const deferred = useDeferredValue(throttled);
  if (!deferred || deferred.role !== "assistant") {
    // The first frames of an answer: its numbers already, its charts at the next redraw.
    if (message?.role === "assistant")
      return (
        <section className="charts" aria-label="Live exit-layer charts" data-message-id={message.id}>
          <AnswerSummary streaming={message.streaming} />
          <p className="small">
            Tokens per second <LiveRate />
          </p>
        </section>
      );
    return (
      <section className="charts empty" aria-label="Live exit-layer charts">
        <p className="muted">
          Send a message to see, token by token, how deep each one had to go through the model.
        </p>
      </section>
    );
  }
  return <ChartsFor message={deferred} streaming={message?.streaming ?? false} />;
}

const ChartsFor = memo(function ChartsFor({
  message,
  streaming,
}: {
  message: UiMessage;
  streaming: boolean;
}) {
  const { layers, exitData, rateData, histogram } = useMemo(() => chartData(message), [message]);
  const dots = exitData.length <= 120;
  const legend = useMemo(() => depthLegend(histogram, layers), [histogram, layers]);

  return (
    <section className="charts" aria-label="Live exit-layer charts" data-message-id={message.id}>
      <AnswerSummary streaming={streaming} />

      <figure className="chart" data-testid="exit-chart" data-points={exitData.length} data-layers={layers}>
        <figcaption>
          Exit layer per token {streaming && <span className="live-dot" aria-label="live" />}
        </figcaption>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT} initialDimension={initialDimension}>
          <LineChart data={exitData} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
            <CartesianGrid stroke="var(--grid)" vertical={false} />
            <XAxis
              dataKey="token"
              type="number"
              domain={[1, Math.max(2, exitData.length)]}
              tick={axisTick}
              allowDecimals={false}
              stroke="var(--border)"
            />
            <YAxis
              domain={[0, layers]}
              ticks={layerTicks(layers)}
              interval={0}
              tick={axisTick}
              allowDecimals={false}
              stroke="var(--border)"
            />
            <Tooltip
              contentStyle={tooltipStyle}
              isAnimationActive={false}
              formatter={(v) => [`layer ${v} of ${layers}`, "exit"]}
              labelFormatter={(l) => `token ${l}: ${JSON.stringify(message.tokenTexts[Number(l) - 1] ?? "")}`}
            />
            <Line
              type="stepAfter"
              dataKey="layer"
              stroke="var(--accent)"
              strokeWidth={1.5}
              dot={dots ? { r: 2, fill: "var(--accent)", strokeWidth: 0 } : false}
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </figure>

      <figure className="chart" data-testid="rate-chart" data-points={rateData.length}>
        <figcaption>
          Tokens per second <LiveRate />
        </figcaption>
        {rateData.length > 0 ? (
          <ResponsiveContainer width="100%" height={CHART_HEIGHT - 30} initialDimension={initialDimension}>
            <AreaChart data={rateData} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
              <CartesianGrid stroke="var(--grid)" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                domain={[0, "dataMax"]}
                ticks={timeTicks(rateData[rateData.length - 1]!.t)}
                tick={axisTick}
                tickFormatter={formatTick}
                stroke="var(--border)"
              />
              <YAxis tick={axisTick} stroke="var(--border)" />
              <Tooltip
                contentStyle={tooltipStyle}
                isAnimationActive={false}
                formatter={(v) => [`${v} tok/s`, "speed"]}
                labelFormatter={(l) => `${l} s`}
              />
              <Area
                type="monotone"
                dataKey="tokensPerSecond"
                stroke="var(--accent-2)"
                fill="var(--accent-2-soft)"
                strokeWidth={1.5}
                isAnimationActive={false}
              />
            </AreaChart>
          </ResponsiveContainer>
        ) : (
          <p className="muted small chart-note">
            {message.exitLayers.length
              ? "Timing is recorded live only; it is not stored with the conversation."
              : "Waiting for tokens…"}
          </p>
        )}
      </figure>

      <figure className="chart" data-testid="histogram-chart" data-bins={histogram.length}>
        <figcaption>Where tokens exited</figcaption>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT - 20} initialDimension={initialDimension}>
          <BarChart data={histogram} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
            <CartesianGrid stroke="var(--grid)" vertical={false} />
            <XAxis dataKey="layer" tick={axisTick} stroke="var(--border)" interval="preserveStartEnd" />
            <YAxis tick={axisTick} allowDecimals={false} stroke="var(--border)" />
            <Tooltip
              contentStyle={tooltipStyle}
              isAnimationActive={false}
              cursor={{ fill: "var(--bg-sunken)" }}
              formatter={(v) => [`${v} tokens`, "count"]}
              labelFormatter={(l) => `layer ${l}`}
            />
            <Bar dataKey="count" isAnimationActive={false} radius={[3, 3, 0, 0]}>
              {histogram.map((b) => (
                <Cell key={b.layer} fill={depthFill(layerBucket(b.layer, layers))} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
        <ul className="legend small muted" aria-label="Bar colours" data-testid="histogram-legend">
          {legend.map((entry) => (
            <li key={entry.bucket} data-fill={entry.fill}>
              <span className="swatch" style={{ background: entry.fill }} aria-hidden="true" />
              {entry.label}
            </li>
          ))}
        </ul>
      </figure>
    </section>
  );
});

/**
 * The numbers above the charts. Unlike the charts (redrawn a few times a second), they follow the
 * store every frame, through the same answerStats as the message, so the two always agree.
 */
function AnswerSummary({ streaming }: { streaming: boolean }) {
  const message = useApp(chartedMessage);
  if (!message) return null;
  const stats = answerStats(message);
  return (
    <div className="chart-summary" data-testid="chart-summary">
      <div>
        <span className="big" data-testid="chart-tokens">
          {stats.tokens}
        </span>
        <span className="muted small">tokens{streaming ? " so far" : ""}</span>
      </div>
      <div>
        <span className="big">{stats.tokens ? stats.meanExitLayer.toFixed(1) : "—"}</span>
        <span className="muted small">mean exit layer (of {stats.chartLayers})</span>
      </div>
      <div>
        <span className="big">{stats.tokens ? `${Math.round(stats.earlyShare * 100)}%` : "—"}</span>
        <span className="muted small">left early</span>
      </div>
    </div>
  );
}

/** The answer's decode speed, live (see AnswerSummary). */
function LiveRate() {
  const message = useApp(chartedMessage);
  return (
    <span className="muted" data-testid="chart-rate">
      {formatRate(message ? answerStats(message).tokensPerSecond : 0)}
    </span>
  );
}

/** Everything the charts draw, from one message (recomputed a few times a second at most). */
function chartData(message: UiMessage) {
  const layers = answerStats(message).chartLayers;
  return {
    layers,
    exitData: exitLayerSeries(message.exitLayers),
    // A moving average over ~5% of the answer (8..32 tokens): per-token timings are noisy.
    rateData: tokensPerSecondSeries(
      message.tokenMs,
      Math.max(8, Math.min(32, Math.round(message.tokenMs.length / 20))),
    ),
    histogram: exitHistogram(message.exitLayers, layers),
  };
}

function layerTicks(layers: number): number[] {
  if (layers <= 8) return Array.from({ length: layers + 1 }, (_, i) => i);
  const step = Math.ceil(layers / 6);
  const out: number[] = [];
  for (let v = 0; v < layers; v += step) out.push(v);
  out.push(layers);
  return out;
}
