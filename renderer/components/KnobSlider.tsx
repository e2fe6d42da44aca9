import { useEffect, useId, useRef, useState } from "react";
import {
  describeExact,
  describeReading,
  interpolateCurve,
  knobAvailability,
  sliderCurve,
} from "../state/calibration";
import { useActions, useApp } from "../state/context";

/** How often the slider sends generation.setKnob while it is being dragged (ms). */
const SEND_INTERVAL_MS = 120;

/**
 * The speed/accuracy slider: 0 = exact (every token is the full model's), 1 = fastest. Shows the
 * active model's measured numbers at the current position, and applies from the next token (also
 * mid-answer). Disabled, with the reason, while the model is being calibrated, when it has no
 * calibration, or when early exit measured no faster on it.
 */
export function KnobSlider() {
  const knob = useApp((s) => s.settings?.knob ?? 0);
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
  const [value, setValue] = useState(knob);
  const dragging = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastSent = useRef(knob);
  const latest = useRef(knob);
  const readingId = useId();
  const inputId = useId();

  // Follow the stored value (another window, a reload) unless the user is moving the slider.
  useEffect(() => {
    if (!dragging.current) {
      setValue(knob);
      latest.current = knob;
      lastSent.current = knob;
    }
  }, [knob]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const availability = knobAvailability(model, calibrating);
  const reading = availability.enabled ? interpolateCurve(sliderCurve(availability.model), value) : null;
  const text = availability.enabled
    ? value === 0
      ? describeExact(availability.model)
      : reading
        ? describeReading(reading)
        : ""
    : availability.reason;

  const send = (v: number) => {
    if (v === lastSent.current) return;
    lastSent.current = v;
    void actions.setKnob(v);
  };
  const onInput = (v: number) => {
    setValue(v);
    latest.current = v;
    if (!timer.current) {
      send(v);
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
        max={1}
        step={0.05}
        value={value}
        disabled={!availability.enabled}
        aria-label="Speed / accuracy"
        aria-describedby={readingId}
        aria-valuetext={
          availability.enabled ? `${Math.round(value * 100)}% toward speed: ${text}` : "unavailable"
        }
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
