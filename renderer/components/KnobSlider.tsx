import { useEffect, useId, useRef, useState } from "react";
import { describeReading, interpolateCurve, knobAvailability } from "../state/calibration";
import { useActions, useApp } from "../state/context";

/** How often the slider sends generation.setKnob while it is being dragged (ms). */
const SEND_INTERVAL_MS = 120;

/**
 * The speed/accuracy slider: 0 = full depth (every token uses every layer), 1 = fastest. Shows the
 * active model's measured numbers at the current position, and applies from the next token (also
 * mid-answer). Disabled, with the reason, when the model has no calibration.
 */
export function KnobSlider() {
  const knob = useApp((s) => s.settings?.knob ?? 0);
  const model = useApp((s) => {
    const id = s.settings?.activeModelId ?? s.engineStatus?.loadedModelId ?? null;
    return s.models.find((m) => m.id === id) ?? null;
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

  const availability = knobAvailability(model);
  const reading = availability.enabled ? interpolateCurve(availability.model.calibration.curve, value) : null;
  const text = reading ? describeReading(reading) : availability.enabled ? "" : availability.reason;

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
        {availability.enabled ? text : model ? "Not calibrated" : "No model"}
        {!availability.enabled && <span className="visually-hidden"> — {availability.reason}</span>}
      </span>
    </div>
  );
}
