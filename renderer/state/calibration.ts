// The speed/accuracy knob: what the active model measured at a knob position, read off its
// calibration curve by linear interpolation. Position 0 is exact: every token is the full model's
// (lossless speculative decoding where it measured faster, else plain full depth), 1.00x at worst
// and 100% by construction.
import type { KnobPoint, ModelSummary } from "../../electron/contract";

/** A measured speed-up below this is within noise: the app does not offer it as "faster". */
export const PAYS = 1.05;

/** The exact stop's point: its measured lossless speed where that pays, else full depth. */
export function exactPoint(model: ModelSummary): KnobPoint {
  const lossless = model.calibration.lossless?.speedup ?? 1;
  return { knob: 0, agreement: 1, meanExitLayer: model.layers, speedup: lossless >= PAYS ? lossless : 1 };
}

/** The curve the slider reads: the exact stop at 0, then the measured early-exit points. */
export function sliderCurve(model: ModelSummary): KnobPoint[] {
  return [exactPoint(model), ...model.calibration.curve.filter((p) => p.knob > 0)];
}

/** "Exact · ≈1.3x faster · same answer" or "Full depth · 1.00x · same answer" for position 0. */
export function describeExact(model: ModelSummary): string {
  const p = exactPoint(model);
  return p.speedup >= PAYS
    ? `Exact · ≈${p.speedup.toFixed(1)}x faster · same answer`
    : "Full depth · 1.00x · same answer";
}

export interface KnobReading {
  knob: number;
  speedup: number;
  agreement: number;
  meanExitLayer: number;
}

/** Interpolates the curve at `knob` (clamped to the curve's ends); null for an empty curve. */
export function interpolateCurve(curve: readonly KnobPoint[], knob: number): KnobReading | null {
  const points = curve
    .filter((p) => [p.knob, p.speedup, p.agreement, p.meanExitLayer].every(Number.isFinite))
    .slice()
    .sort((a, b) => a.knob - b.knob);
  if (points.length === 0) return null;
  const first = points[0];
  const last = points[points.length - 1];
  if (knob <= first.knob) return { ...pick(first), knob };
  if (knob >= last.knob) return { ...pick(last), knob };
  for (let i = 1; i < points.length; i++) {
    const b = points[i];
    if (knob <= b.knob) {
      const a = points[i - 1];
      const span = b.knob - a.knob;
      const f = span > 0 ? (knob - a.knob) / span : 0;
      return {
        knob,
        speedup: lerp(a.speedup, b.speedup, f),
        agreement: lerp(a.agreement, b.agreement, f),
        meanExitLayer: lerp(a.meanExitLayer, b.meanExitLayer, f),
      };
    }
  }
  return { ...pick(last), knob };
}

/** "≈1.4x faster · 98% same tokens" (agreement is a 0..1 share). */
export function describeReading(r: KnobReading): string {
  // Honest about models where early exit costs more than it saves (its predictors take time too).
  const speed =
    r.speedup >= 1.05
      ? `≈${r.speedup.toFixed(1)}x faster`
      : r.speedup > 1.005
        ? `≈${r.speedup.toFixed(2)}x faster`
        : r.speedup < 0.995
          ? `≈${r.speedup.toFixed(2)}x speed (slower)`
          : "same speed";
  // Agreement is a 0..1 share; tolerate a curve written in percent.
  const agreement = Math.min(100, Math.max(0, r.agreement > 1 ? r.agreement : r.agreement * 100));
  const pct =
    agreement >= 99.95
      ? "100"
      : agreement >= 99
        ? String(Number(agreement.toFixed(1)))
        : Math.round(agreement).toString();
  return `${speed} · ${pct}% same tokens`;
}

export type KnobAvailability =
  { enabled: true; model: ModelSummary } | { enabled: false; reason: string; label: string };

/**
 * Whether the slider can be used, and in plain words why not: no model; calibration still
 * running (`calibrating`: its progress 0..1); never calibrated; or calibrated, and early exit
 * measured no faster on this model at any setting (said once, instead of "slower" everywhere).
 */
export function knobAvailability(
  model: ModelSummary | null | undefined,
  calibrating?: number | null,
): KnobAvailability {
  if (!model) return { enabled: false, reason: "Choose a model to use the speed slider.", label: "No model" };
  if (calibrating !== undefined && calibrating !== null) {
    const pct = Math.round(Math.min(1, Math.max(0, calibrating)) * 100);
    return {
      enabled: false,
      reason: `${model.name} is being calibrated (${pct}%): it answers at full depth until the speed settings are measured.`,
      label: `Calibrating… ${pct}%`,
    };
  }
  if (model.calibration.status !== "calibrated" || model.calibration.curve.length === 0) {
    return {
      enabled: false,
      reason: `${model.name} has not been calibrated yet, so its speed/accuracy trade-off is unknown. Calibrate it in Models to use the slider.`,
      label: "Not calibrated",
    };
  }
  if (!model.calibration.curve.some((p) => p.speedup >= PAYS)) {
    const exact = describeExact(model);
    return {
      enabled: false,
      reason: `Early exit does not speed up ${model.name} on this computer (measured at calibration), so every token uses all ${model.layers} layers.`,
      label: `Early exit does not pay on this model · ${exact}`,
    };
  }
  return { enabled: true, model };
}

function pick(p: KnobPoint): Omit<KnobReading, "knob"> {
  return { speedup: p.speedup, agreement: p.agreement, meanExitLayer: p.meanExitLayer };
}

function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}
