import { useId } from "react";
import { useActions, useApp } from "../state/context";
import { formatLoadProgress, formatParams } from "../state/format";

/** The active-model menu in the chat header: loads the chosen model, shows loading and engine state. */
export function ModelPicker() {
  const models = useApp((s) => s.models);
  const activeId = useApp((s) => s.settings?.activeModelId ?? s.engineStatus?.loadedModelId ?? null);
  const selecting = useApp((s) => s.selectingModelId);
  const engineState = useApp((s) => s.engineStatus?.state ?? "starting");
  const loadProgress = useApp((s) => formatLoadProgress(s.engineStatus?.loading, s.selectingModelId));
  const actions = useActions();
  const statusId = useId();

  const loading = selecting !== null;
  const selectingName = models.find((m) => m.id === selecting)?.name;
  const status = loading
    ? selecting
      ? `Loading ${selectingName ?? "model"}…${loadProgress}`
      : "Unloading…"
    : engineState === "starting"
      ? "Engine starting…"
      : engineState !== "ready"
        ? "Engine restarting…"
        : "";

  if (models.length === 0) {
    return (
      <button type="button" className="btn model-picker-empty" onClick={() => actions.setView("models")}>
        No models yet — import one
      </button>
    );
  }

  return (
    <div className="model-picker" aria-busy={loading}>
      <select
        aria-label="Active model"
        aria-describedby={status ? statusId : undefined}
        value={activeId ?? ""}
        disabled={loading}
        onChange={(e) => void actions.selectModel(e.target.value || null)}
      >
        <option value="">No model loaded</option>
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name} · {formatParams(m.params)} · {m.quant}
          </option>
        ))}
      </select>
      {status && (
        <span id={statusId} className="model-status" role="status">
          {loading && <span className="spinner" aria-hidden="true" />}
          {status}
        </span>
      )}
    </div>
  );
}
