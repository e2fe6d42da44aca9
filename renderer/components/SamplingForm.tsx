import { useEffect, useId, useRef, useState } from "react";
import type { ChatSampling } from "../../electron/contract";
import { parseDraft, samplingFields, sameSampling, toDraft, type SamplingDraft } from "../state/samplingForm";

/** What an empty field means. */
const placeholders: Partial<Record<keyof ChatSampling, string>> = { seed: "random", maxTokens: "automatic" };

/**
 * Sampling settings with inline validation; Save sends the whole set, Reset restores `defaults`.
 * With `autoSave` (the Settings page, where everything saves as it changes) there is no Save
 * button: a valid change is sent when the field loses focus.
 */
export function SamplingForm({
  value,
  defaults,
  onSave,
  saveLabel = "Save",
  idPrefix,
  autoSave = false,
}: {
  value: ChatSampling;
  defaults?: ChatSampling;
  onSave(s: ChatSampling): Promise<boolean | void> | void;
  saveLabel?: string;
  idPrefix?: string;
  autoSave?: boolean;
}) {
  const [draft, setDraft] = useState<SamplingDraft>(() => toDraft(value));
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const base = useId();
  const prefix = idPrefix ?? base;

  // The draft as the last save sent it, and the draft now: a field edited meanwhile (typed
  // into right after leaving another) must not be replaced by the saved value when it comes
  // back, and is saved in turn.
  const sent = useRef<SamplingDraft | null>(null);
  const latest = useRef(draft);
  useEffect(() => {
    latest.current = draft;
  });
  useEffect(() => {
    setDraft((current) => (sent.current && !sameDraft(sent.current, current) ? current : toDraft(value)));
  }, [value]);

  const result = parseDraft(draft);
  const dirty = result.ok ? !sameSampling(result.sampling, value) : true;
  const errors = result.ok ? {} : result.errors;

  const saveDraft = async (toSend: SamplingDraft): Promise<void> => {
    const parsed = parseDraft(toSend);
    if (!parsed.ok) return;
    setSaving(true);
    sent.current = toSend;
    const ok = await onSave(parsed.sampling);
    const typedSince = !sameDraft(toSend, latest.current);
    setSaving(false);
    if (ok !== false) setSaved(!typedSince);
    // Changes made while it saved go out too (their field's blur came while this was in flight).
    if (ok !== false && autoSave && typedSince) await saveDraft(latest.current);
  };
  const save = () => saveDraft(draft);

  return (
    <form
      className="sampling-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      aria-label="Sampling settings"
      onBlur={() => {
        if (autoSave && result.ok && dirty && !saving) void save();
      }}
    >
      <div className="field-grid">
        {samplingFields.map((spec) => {
          const id = `${prefix}-${spec.field}`;
          const err = errors[spec.field];
          return (
            <div className="field" key={spec.field}>
              <label htmlFor={id}>{spec.label}</label>
              <input
                id={id}
                type="number"
                inputMode={spec.integer ? "numeric" : "decimal"}
                min={spec.min}
                max={spec.max}
                step={spec.step}
                placeholder={placeholders[spec.field]}
                value={draft[spec.field]}
                aria-invalid={err ? true : undefined}
                aria-describedby={`${id}-help`}
                onChange={(e) => {
                  setSaved(false);
                  setDraft((d) => ({ ...d, [spec.field]: e.target.value }));
                }}
              />
              <span id={`${id}-help`} className={err ? "field-error" : "field-help"}>
                {err ?? spec.help}
              </span>
            </div>
          );
        })}
      </div>
      <div className="form-actions" hidden={autoSave && !defaults}>
        {defaults && (
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              setSaved(false);
              setDraft(toDraft(defaults));
            }}
          >
            Reset to defaults
          </button>
        )}
        {!autoSave && (
          <span className="muted small" role="status">
            {saved && !dirty ? "Saved" : ""}
          </span>
        )}
        {!autoSave && (
          <button type="submit" className="btn btn-primary" disabled={!result.ok || !dirty || saving}>
            {saving ? "Saving…" : saveLabel}
          </button>
        )}
      </div>
    </form>
  );
}

function sameDraft(a: SamplingDraft, b: SamplingDraft): boolean {
  return samplingFields.every(({ field }) => a[field] === b[field]);
}
