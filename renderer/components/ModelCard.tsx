import { memo, useState } from "react";
import type { ModelSummary } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { formatBytes, formatLoadProgress, formatParams, formatWhen } from "../state/format";
import { describeModelMemory, modelMemory } from "../state/modelMemory";
import { describeSourceBlocks } from "../state/sourceBlocks";
import { CalibrationChart } from "./CalibrationChart";
import { ConfirmDialog } from "./ConfirmDialog";
import { Icon } from "./Icon";

/** What a model card says of a base model (one without a chat template). */
export const completionModeLabel = "Text completion — continues the text you write (no chat template)";

export const ModelCard = memo(function ModelCard({ model }: { model: ModelSummary }) {
  const actions = useActions();
  const activeId = useApp((s) => s.settings?.activeModelId ?? s.engineStatus?.loadedModelId ?? null);
  const selecting = useApp((s) => s.selectingModelId);
  const calibrating = useApp((s) =>
    s.jobs.some(
      (j) =>
        j.state === "running" &&
        j.stage === "calibrate" &&
        (j.modelId === model.id || j.source === model.name),
    ),
  );
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(model.name);
  const [confirm, setConfirm] = useState(false);
  const active = activeId === model.id;
  const loading = selecting === model.id;
  const loadProgress = useApp((s) => formatLoadProgress(s.engineStatus?.loading, model.id));
  // What runs this model, known once the engine has loaded it.
  const kernels = useApp((s) =>
    s.engineStatus?.loadedModelId === model.id ? s.engineStatus.kernels : undefined,
  );
  const memory = modelMemory(
    model,
    useApp((s) => s.settings?.contextLength),
  );

  const use = () => actions.useModelInChat(model.id);

  const commit = () => {
    setRenaming(false);
    if (name.trim() && name.trim() !== model.name) void actions.renameModel(model.id, name);
    else setName(model.name);
  };

  return (
    <li
      className={active ? "model-card active" : "model-card"}
      data-testid="model-card"
      data-model-id={model.id}
      aria-label={model.name}
    >
      <div className="model-card-head">
        {renaming ? (
          <input
            className="rename-input"
            aria-label={`New name for ${model.name}`}
            value={name}
            autoFocus
            maxLength={200}
            onChange={(e) => setName(e.target.value)}
            onBlur={commit}
            onKeyDown={(e) => {
              if (e.key === "Enter") commit();
              if (e.key === "Escape") {
                e.stopPropagation();
                setName(model.name);
                setRenaming(false);
              }
            }}
          />
        ) : (
          <h2 className="model-name">{model.name}</h2>
        )}
        {active && <span className="badge badge-accent">Active</span>}
      </div>
      {model.mode === "completion" && (
        <p className="model-mode small" data-testid="model-mode">
          {completionModeLabel}
        </p>
      )}
      <dl className="specs">
        <Spec label="Architecture" value={model.arch} />
        <Spec label="Parameters" value={formatParams(model.params)} />
        <Spec label="Quantization" value={model.quant} />
        <Spec
          label="Weights"
          value={describeSourceBlocks(model.sourceBlocks, model.quant)}
          testId="model-weights"
        />
        <Spec label="Layers" value={String(model.layers)} />
        <Spec label="Context" value={`${model.contextLength.toLocaleString()} tokens`} />
        <Spec label="Size on disk" value={formatBytes(model.sizeBytes)} />
        {memory && <Spec label="Memory to run" value={describeModelMemory(memory)} testId="model-memory" />}
        <Spec
          label="Source"
          value={model.sourceFormat === "hf" ? "Hugging Face" : model.sourceFormat.toUpperCase()}
        />
        <Spec label="Imported from" value={model.sourceFile} />
        <Spec label="Imported" value={formatWhen(model.createdAt)} />
        <Spec
          label="Calibration"
          value={
            model.calibration.stale
              ? `${calibrating ? "Measuring again" : "Out of date"}: ${model.calibration.stale}`
              : model.calibration.status === "calibrated"
                ? `Calibrated (${model.calibration.curve.length} points${model.calibration.measuredOn ? `, on ${model.calibration.measuredOn}` : ""})`
                : calibrating
                  ? "Calibrating…"
                  : "Not calibrated"
          }
        />
      </dl>
      {kernels && (
        <p
          className={kernels.notice ? "notice warn small" : "model-kernels small muted"}
          data-testid="model-kernels"
        >
          {kernels.notice
            ? `Runs on ${kernels.name}, several times slower than the native kernels: ${kernels.notice}.`
            : `Runs on the ${kernels.name} kernels.`}
        </p>
      )}
      <CalibrationChart model={model} calibrating={calibrating} />
      <div className="model-actions">
        {active ? (
          <button
            type="button"
            className="btn"
            disabled={selecting !== null}
            onClick={() => void actions.selectModel(null)}
          >
            Unload
          </button>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            disabled={selecting !== null}
            onClick={() => void use()}
            aria-label={`Use ${model.name}`}
          >
            {loading ? (
              <>
                <span className="spinner" aria-hidden="true" /> Loading…{loadProgress}
              </>
            ) : (
              "Use this model"
            )}
          </button>
        )}
        {model.calibration.status !== "calibrated" && (
          <button
            type="button"
            className="btn"
            disabled={calibrating}
            onClick={() => void actions.calibrateModel(model.id)}
            title="Measure the speed/accuracy curve so the slider can be used"
          >
            Calibrate
          </button>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="icon-btn"
          aria-label={`Rename ${model.name}`}
          title="Rename"
          onClick={() => setRenaming(true)}
        >
          <Icon name="edit" size={14} />
        </button>
        <button
          type="button"
          className="icon-btn danger"
          aria-label={`Delete ${model.name}`}
          title="Delete"
          onClick={() => setConfirm(true)}
        >
          <Icon name="trash" size={14} />
        </button>
      </div>
      {confirm && (
        <ConfirmDialog
          title={`Delete ${model.name}?`}
          body={`Its converted files (${formatBytes(model.sizeBytes)}) are removed from this computer. Your conversations stay. The original file you imported is not touched.`}
          confirmLabel="Delete model"
          onCancel={() => setConfirm(false)}
          onConfirm={() => {
            setConfirm(false);
            void actions.deleteModel(model.id);
          }}
        />
      )}
    </li>
  );
});

function Spec({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="spec">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
