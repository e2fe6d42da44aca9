import { memo } from "react";
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { ModelSummary } from "../../electron/contract";
import { exactPoint, formatAgreement } from "../state/calibration";

const HEIGHT = 160;
const axisTick = { fontSize: 11, fill: "var(--fg-muted)" };
const initialDimension = { width: 280, height: HEIGHT };

/**
 * A model's measured speed/accuracy curve against the knob, as calibration stored it: agreement
 * with full depth (left axis) and decode speed against full depth (right axis; the dashed line is
 * 1.00x, below it early exit costs more than it saves). Knob 0 is the exact stop. A table with the
 * same numbers is there for screen readers.
 */
export const CalibrationChart = memo(function CalibrationChart({
  model,
  calibrating = false,
}: {
  model: ModelSummary;
  calibrating?: boolean;
}) {
  if (model.calibration.status !== "calibrated" || model.calibration.curve.length === 0) {
    return (
      <p className="muted small calibration-note" data-testid="calibration-none">
        {calibrating
          ? "Being calibrated: its speed/accuracy curve appears here once it is measured."
          : "Not calibrated yet, so there is no speed/accuracy curve. Calibrate to measure it."}
      </p>
    );
  }
  const exact = exactPoint(model);
  const points = [exact, ...model.calibration.curve.filter((p) => p.knob > 0)]
    .sort((a, b) => a.knob - b.knob)
    .map((p) => ({
      knob: p.knob,
      agreement: Number((Math.min(1, p.agreement > 1 ? p.agreement / 100 : p.agreement) * 100).toFixed(1)),
      speedup: Number(p.speedup.toFixed(2)),
    }));
  const lowest = Math.min(...points.map((p) => p.agreement));
  // Speed ticks on round tenths (0.8x, 0.9x, 1x …), at most six of them.
  const top = Math.ceil(Math.max(1.1, ...points.map((p) => p.speedup)) * 10) / 10;
  const bottom = Math.floor(Math.min(0.9, ...points.map((p) => p.speedup)) * 10) / 10;
  const step = Math.max(0.1, Math.ceil(((top - bottom) / 5) * 10) / 10);
  const speedTicks: number[] = [];
  for (let v = bottom; v <= top + 1e-9; v += step) speedTicks.push(Math.round(v * 10) / 10);
  return (
    <figure className="calibration-chart" data-testid="calibration-chart" data-points={points.length}>
      <figcaption className="small">Measured at calibration: same tokens and speed, by knob</figcaption>
      <ResponsiveContainer width="100%" height={HEIGHT} initialDimension={initialDimension}>
        <LineChart data={points} margin={{ top: 6, right: 0, bottom: 0, left: -14 }}>
          <CartesianGrid stroke="var(--grid)" vertical={false} />
          <XAxis
            dataKey="knob"
            type="number"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tick={axisTick}
            stroke="var(--border)"
          />
          <YAxis
            yAxisId="agreement"
            domain={[Math.max(0, Math.floor(lowest / 5) * 5 - 5), 100]}
            tick={axisTick}
            unit="%"
            stroke="var(--border)"
          />
          <YAxis
            yAxisId="speed"
            orientation="right"
            domain={[bottom, speedTicks[speedTicks.length - 1]]}
            ticks={speedTicks}
            tick={axisTick}
            unit="x"
            stroke="var(--border)"
          />
          <ReferenceLine yAxisId="speed" y={1} stroke="var(--fg-muted)" strokeDasharray="4 3" />
          <Tooltip
            contentStyle={{
              background: "var(--bg-elev)",
              border: "1px solid var(--border)",
              borderRadius: 8,
              fontSize: 12,
              color: "var(--fg)",
            }}
            isAnimationActive={false}
            labelFormatter={(k) => (Number(k) === 0 ? "knob 0 (exact)" : `knob ${k}`)}
          />
          <Line
            yAxisId="agreement"
            dataKey="agreement"
            name="same tokens (%)"
            stroke="var(--accent)"
            strokeWidth={1.5}
            dot={{ r: 2.5 }}
            isAnimationActive={false}
          />
          <Line
            yAxisId="speed"
            dataKey="speedup"
            name="speed (x full depth)"
            stroke="var(--accent-2)"
            strokeWidth={1.5}
            dot={{ r: 2.5 }}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
      <ul className="legend small muted" aria-hidden="true">
        <li>
          <span className="swatch" style={{ background: "var(--accent)" }} /> same tokens (%)
        </li>
        <li>
          <span className="swatch" style={{ background: "var(--accent-2)" }} /> speed (x full depth; dashed:
          1.00x)
        </li>
      </ul>
      <table className="visually-hidden">
        <caption>Calibration curve of {model.name}</caption>
        <thead>
          <tr>
            <th>Knob</th>
            <th>Same tokens</th>
            <th>Speed</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p) => (
            <tr key={p.knob}>
              <td>{p.knob === 0 ? "0 (exact)" : p.knob}</td>
              <td>{p.knob === 0 ? "100" : formatAgreement(p.agreement / 100)}%</td>
              <td>{p.speedup.toFixed(2)}x</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
});
