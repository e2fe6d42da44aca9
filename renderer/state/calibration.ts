// The speed/accuracy knob: which positions the slider offers on the active model and what each
// says. Every figure is one the calibration measured and stored (nothing is interpolated): the
// slider stops only at measured points. Position 0 is exact: every token is the full model's
// (lossless speculative decoding where it measured faster, else plain full depth), so it reads
// 1.00x at worst and 100% by construction.
import type { KnobPoint, ModelSummary } from "../../electron/contract";

/** A measured speed-up below this is within noise: the app does not offer it as "faster". */
export const PAYS = 1.05;

/** What the slider says when no early-exit setting measured faster (said once, not at every stop). */
export const NO_SPEEDUP = "Early exit does not speed up this model on this computer";

/** The exact stop's point: its measured lossless speed where that pays, else full depth. */
export function exactPoint(model: ModelSummary): KnobPoint {
  const lossless = model.calibration.lossless?.speedup ?? 1;
  return { knob: 0, agreement: 1, meanExitLayer: model.layers, speedup: lossless >= PAYS ? lossless : 1 };
}

/**
 * The slider's stops, in order: the exact stop, then each measured early-exit point worth choosing.
 * A point is left out when another (or the exact stop) is at least as fast and at least as accurate,
 * or when it is not measurably faster than full depth, so that moving toward "speed" always reads
 * faster and less exact: the labels are monotone even where the measured curve is noisy.
 */
export function sliderStops(model: ModelSummary): KnobPoint[] {
  const exact = exactPoint(model);
  const measured = model.calibration.curve.filter(
    (p) =>
      p.knob > 0 && [p.speedup, p.agreement, p.meanExitLayer].every(Number.isFinite) && p.speedup >= PAYS,
  );
  const all = [exact, ...measured.map((p) => ({ ...p, agreement: share(p.agreement) }))];
  const frontier = all.filter(
    (p) =>
      p === exact ||
      !all.some(
        (q) =>
          q !== p &&
          q.speedup >= p.speedup &&
          q.agreement >= p.agreement &&
          (q.speedup > p.speedup || q.agreement > p.agreement || q.knob < p.knob),
      ),
  );
  return frontier.sort((a, b) => a.speedup - b.speedup || b.agreement - a.agreement);
}

/** The stop nearest a stored knob value (the knob is one setting for every model). */
export function nearestStop(stops: readonly KnobPoint[], knob: number): number {
  let best = 0;
  for (let i = 1; i < stops.length; i++) {
    if (Math.abs(stops[i].knob - knob) < Math.abs(stops[best].knob - knob)) best = i;
  }
  return best;
}

/** "Full depth · 1.00x · 100% same tokens", or the lossless stop's measured speed. */
export function describeExact(model: ModelSummary): string {
  const p = exactPoint(model);
  return p.speedup >= PAYS
    ? `Exact · ${p.speedup.toFixed(2)}x faster · 100% same tokens`
    : "Full depth · 1.00x · 100% same tokens";
}

/** A stop in words: "1.42x faster · 98% same tokens" (the exact stop: describeExact). */
export function describeStop(model: ModelSummary, stop: KnobPoint): string {
  if (stop.knob === 0) return describeExact(model);
  return `${stop.speedup.toFixed(2)}x faster · ${formatAgreement(stop.agreement)}% same tokens`;
}

/** Agreement as the slider prints it: whole percent, one decimal from 99%, "100" only when it is. */
export function formatAgreement(agreement: number): string {
  const pct = share(agreement) * 100;
  if (pct >= 100) return "100";
  if (pct >= 99) return String(Math.min(99.9, Math.floor(pct * 10) / 10));
  return String(Math.floor(pct));
}

export type KnobAvailability =
  | { enabled: true; model: ModelSummary; stops: KnobPoint[] }
  | { enabled: false; reason: string; label: string; model?: ModelSummary };

/**
 * Whether the slider can be used, and in plain words why not: no model; calibration still
 * running (`calibrating`: its progress 0..1); never calibrated; or calibrated, and early exit
 * measured no faster on this model at any setting (said once, with the exact stop's number).
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
  const stops = sliderStops(model);
  if (stops.length < 2) {
    return {
      enabled: false,
      model,
      reason: `${NO_SPEEDUP} (measured at calibration), so it answers exactly: ${describeExact(model)}.`,
      label: `${NO_SPEEDUP} · ${describeExact(model)}`,
    };
  }
  return { enabled: true, model, stops };
}

/** Agreement is a 0..1 share; tolerate a curve written in percent. */
function share(agreement: number): number {
  const s = agreement > 1 ? agreement / 100 : agreement;
  return Math.min(1, Math.max(0, s));
}
