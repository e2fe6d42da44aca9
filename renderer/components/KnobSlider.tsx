import { useEffect, useId, useRef, useState } from "react";
import { describeStop, knobAvailability, nearestStop } from "../state/calibration";
import { useActions, useApp } from "../state/context";

/** How often the slider sends generation.setKnob while it is being dragged (ms). */
const SEND_INTERVAL_MS = 120;

/**
 * The speed/accuracy slider: its stops are the active model's measured calibration points (the
 * first is exact: every token is the full model's), and each says what was measured there. It
 * applies from the next token (also mid-answer). Disabled, with the reason, while the model is
 * being calibrated, when it has no calibration, or when early exit measured no faster on it.
 */
export function KnobSlider() {
  const knob = useApp((s) => s.settings?.knob ?? 0);
  const hasSettings = useApp((s) => s.settings !== null);
  const model = useApp((s) => {
    const id = s.settings?.activeModelId ?? s.engineStatus?.loadedModelId ?? null;
    return s.models.find((m) => m.id === id) ?? null;
  });
  const calibrating = useApp((s) => {
    const job = model
      ? s.jobs.find(
          (j) =>
            j.state === "running" &&
            j.stage === "calibrate" &&
            (j.modelId === model.id || j.source === model.name),
        )
      : undefined;
    return job ? job.progress : null;
  });
  const actions = useActions();
  const availability = knobAvailability(model, calibrating);
  const stops = availability.enabled ? availability.stops : [];
  const storedIndex = nearestStop(stops, knob);
  const [index, setIndex] = useState(storedIndex);
  const dragging = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastSent = useRef(knob);
  const latest = useRef(knob);
  const readingId = useId();
  const inputId = useId();

  // Follow the stored value (another window, a reload) unless the user is moving the slider.
  useEffect(() => {
    if (!dragging.current) {
      setIndex(storedIndex);
      latest.current = knob;
      lastSent.current = knob;
    }
  }, [knob, storedIndex]);
  useEffect(() => () => clearTimeout(timer.current), []);

  // The engine runs at the stored knob: where that is not one of this model's measured stops (the
  // default, another model's stop, or a model where early exit does not pay) move it to the stop
  // shown, so that what the slider says is what the engine does.
  const calibrated = availability.enabled || availability.model !== undefined;
  const target = availability.enabled ? (stops[storedIndex]?.knob ?? 0) : 0;
  useEffect(() => {
    if (hasSettings && calibrated && !dragging.current && knob !== target) void actions.setKnob(target);
  }, [hasSettings, calibrated, knob, target, actions]);

  const stop = stops[Math.min(index, stops.length - 1)];
  const text = availability.enabled && stop ? describeStop(availability.model, stop) : "";

  const send = (v: number) => {
    if (v === lastSent.current) return;
    lastSent.current = v;
    void actions.setKnob(v);
  };
  const onInput = (i: number) => {
    setIndex(i);
    latest.current = stops[i]?.knob ?? 0;
    if (!timer.current) {
      send(latest.current);
      timer.current = setTimeout(function tick() {
        timer.current = undefined;
        send(latest.current);
      }, SEND_INTERVAL_MS);
    }
  };
  const commit = () => {
    dragging.current = false;
    clearTimeout(timer.current);
    timer.current = undefined;
    send(latest.current);
  };

  return (
    <div
      className={availability.enabled ? "knob" : "knob disabled"}
      title={availability.enabled ? undefined : availability.reason}
    >
      <label htmlFor={inputId} className="knob-label">
        <span>Accuracy</span>
      </label>
      <input
        id={inputId}
        type="range"
        min={0}
        max={Math.max(1, stops.length - 1)}
        step={1}
        value={availability.enabled ? index : 0}
        disabled={!availability.enabled}
        aria-label="Speed / accuracy"
        aria-describedby={readingId}
        aria-valuetext={
          availability.enabled ? `step ${index + 1} of ${stops.length}: ${text}` : availability.label
        }
        data-knob={stop?.knob ?? 0}
        onPointerDown={() => (dragging.current = true)}
        onChange={(e) => onInput(Number(e.target.value))}
        onPointerUp={commit}
        onKeyUp={commit}
        onBlur={() => (dragging.current = false)}
      />
      <span className="knob-label" aria-hidden="true">
        Speed
      </span>
      <span
        id={readingId}
        className={availability.enabled ? "knob-reading" : "knob-reading muted"}
        data-testid="knob-reading"
      >
        {availability.enabled ? text : availability.label}
        {!availability.enabled && <span className="visually-hidden"> — {availability.reason}</span>}
      </span>
    </div>
  );
}
