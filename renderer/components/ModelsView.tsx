import { memo, useEffect, useRef, useState } from "react";
import type { ImportJob, ModelSummary } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { groupsFromFolderInput } from "../state/dropFiles";
import { formatBytes, formatLoadProgress, formatParams, formatWhen } from "../state/format";
import {
  jobDetail,
  jobMessage,
  overallProgress,
  sourceName,
  stageLabels,
  stageStates,
  supportedHint,
  type ImportStageName,
} from "../state/importJobs";
import type { LocalImport } from "../state/store";
import { useDownloads } from "../state/useDownloads";
import { requestFailure } from "../state/downloads";
import { Catalog } from "./Catalog";
import { ConfirmDialog } from "./ConfirmDialog";
import { DownloadCard } from "./DownloadCard";
import { Icon } from "./Icon";
import { RepoPicker } from "./RepoPicker";

/** What a model card says of a base model (one without a chat template). */
export const completionModeLabel = "Text completion — continues the text you write (no chat template)";

export function ModelsView() {
  const models = useApp((s) => s.models);
  const loaded = useApp((s) => s.modelsLoaded);
  const jobs = useApp((s) => s.jobs);
  const local = useApp((s) => s.localImports);
  const toast = useApp((s) => s.toast);
  const downloads = useDownloads();
  // A download's import is shown on its download card, not as a second card.
  const downloadImports = new Set(downloads.jobs.map((d) => d.importJobId).filter(Boolean));
  const importJobs = jobs.filter((j) => !downloadImports.has(j.jobId));
  return (
    <div className="page models-view">
      <header className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">
            Drop a GGUF file or a Hugging Face model folder anywhere on this window, or import one.
          </p>
        </div>
        <ImportButtons />
      </header>
      {(importJobs.length > 0 || local.length > 0) && (
        <section className="jobs" aria-label="Imports">
          {local.map((l) => (
            <LocalImportCard key={l.key} item={l} />
          ))}
          {importJobs
            .slice()
            .reverse()
            .map((job) => (
              <JobCard key={job.jobId} job={job} />
            ))}
        </section>
      )}
      <section aria-label="Library" className="library">
        {loaded && models.length === 0 ? (
          <div className="library-empty">
            <Icon name="models" size={28} />
            <h2>No models yet</h2>
            <p className="muted">Download one below, or import a model file you already have.</p>
            <p className="muted small">{supportedHint}</p>
          </div>
        ) : (
          <ul className="model-grid" aria-label="Imported models">
            {models.map((m) => (
              <ModelCard key={m.id} model={m} />
            ))}
          </ul>
        )}
      </section>
      {downloads.jobs.length > 0 && (
        <section className="jobs" aria-label="Downloads">
          {downloads.jobs.map((job) => (
            <DownloadCard
              key={job.jobId}
              job={job}
              onCancel={(id) => void downloads.cancel(id)}
              onDismiss={downloads.dismiss}
              justStarted={job.jobId === downloads.lastStarted}
            />
          ))}
        </section>
      )}
      <Catalog
        entries={downloads.catalog}
        error={downloads.catalogError}
        jobs={downloads.jobs}
        onDownload={(entry) =>
          void downloads
            .start(entry.repo, entry.file)
            .catch((err: unknown) =>
              toast("error", `Could not download ${entry.name}: ${requestFailure(err, entry.name).message}`),
            )
        }
      />
      <RepoPicker downloads={downloads} />
    </div>
  );
}

/**
 * Import: in the desktop app the back end's native dialog (models.importDialog); in the browser
 * build a file input (a GGUF file) and a folder input (a Hugging Face folder), whose Files go to
 * api.importFiles.
 */
function ImportButtons() {
  const native = useApp((s) => s.nativeImportDialog);
  const actions = useActions();
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // webkitdirectory is not a React prop; set it on the element.
    folderRef.current?.setAttribute("webkitdirectory", "");
    folderRef.current?.setAttribute("directory", "");
  }, []);

  if (native) {
    return (
      <div className="import-buttons">
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => void actions.importWithDialog(false)}
        >
          <Icon name="file" /> Import…
        </button>
        <button type="button" className="btn" onClick={() => void actions.importWithDialog(true)}>
          <Icon name="folder" /> Import folder…
        </button>
      </div>
    );
  }
  return (
    <div className="import-buttons">
      <button type="button" className="btn btn-primary" onClick={() => fileRef.current?.click()}>
        <Icon name="file" /> Import…
      </button>
      <button type="button" className="btn" onClick={() => folderRef.current?.click()}>
        <Icon name="folder" /> Import folder…
      </button>
      <input
        ref={fileRef}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Choose a GGUF model file"
        accept=".gguf,.bin,.safetensors"
        multiple
        data-testid="import-file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length) void actions.importGroups(files.map((f) => ({ label: f.name, files: [f] })));
        }}
      />
      <input
        ref={folderRef}
        type="file"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Choose a Hugging Face model folder"
        multiple
        data-testid="import-folder-input"
        onChange={(e) => {
          const files = e.target.files;
          const groups = files ? groupsFromFolderInput(files) : [];
          e.target.value = "";
          if (groups.length) void actions.importGroups(groups);
        }}
      />
    </div>
  );
}

function LocalImportCard({ item }: { item: LocalImport }) {
  const actions = useActions();
  return (
    <article
      className={item.state === "refused" ? "job-card failed" : "job-card"}
      aria-label={`Import of ${item.label}`}
      data-testid="import-job"
    >
      <div className="job-head">
        <Icon name={item.state === "refused" ? "alert" : "upload"} />
        <h3>{item.label}</h3>
        {item.state === "refused" && (
          <button
            type="button"
            className="icon-btn"
            aria-label={`Dismiss ${item.label}`}
            onClick={() => actions.dismissLocalImport(item.key)}
          >
            <Icon name="close" size={14} />
          </button>
        )}
      </div>
      {item.state === "sending" ? (
        <>
          <div className="progress indeterminate" role="progressbar" aria-label={`Sending ${item.label}`} />
          <p className="muted small">Sending the file to Exitlane…</p>
        </>
      ) : (
        <p className="job-error" role="alert" data-testid="import-error">
          {item.error}
        </p>
      )}
    </article>
  );
}

const JobCard = memo(function JobCard({ job }: { job: ImportJob }) {
  const actions = useActions();
  const name = sourceName(job.source);
  const stages = stageStates(job);
  const pct = Math.round(overallProgress(job) * 100);
  const message = jobMessage(job);
  const detail = jobDetail(job);
  const running = job.state === "running";
  return (
    <article
      className={`job-card ${job.state}`}
      aria-label={`Import of ${name}`}
      data-testid="import-job"
      data-state={job.state}
      data-stage={job.stage}
    >
      <div className="job-head">
        <Icon name={job.state === "failed" ? "alert" : job.state === "done" ? "check" : "upload"} />
        <h3 title={job.source}>{name}</h3>
        {running ? (
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => void actions.cancelImport(job.jobId)}
            aria-label={`Cancel import of ${name}`}
          >
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="icon-btn"
            aria-label={`Dismiss ${name}`}
            onClick={() => actions.dismissJob(job.jobId)}
          >
            <Icon name="close" size={14} />
          </button>
        )}
      </div>
      <ol className="stages" aria-label="Stages">
        {stages.map((s) => (
          <li
            key={s.stage}
            className={`stage ${s.state}`}
            aria-current={s.state === "active" ? "step" : undefined}
          >
            <span className="stage-dot" aria-hidden="true" />
            {stageLabels[s.stage as ImportStageName]}
            {s.state === "active" && (
              <span className="visually-hidden"> ({Math.round(s.progress * 100)}%)</span>
            )}
          </li>
        ))}
      </ol>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Import of ${name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${stageLabels[job.stage as ImportStageName] ?? job.stage}: ${Math.round(job.progress * 100)}%`}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      {message && (
        <p
          className={job.state === "failed" ? "job-error" : "muted small"}
          role={job.state === "failed" ? "alert" : undefined}
          data-testid={job.state === "failed" ? "import-error" : undefined}
        >
          {message}
        </p>
      )}
      {detail && (
        <p className="muted small" data-testid="import-error-detail">
          {detail}
        </p>
      )}
      {job.errorCode === "already_imported" && job.errorDetail?.modelId && (
        <UseExisting modelId={job.errorDetail.modelId} />
      )}
    </article>
  );
});

/** For a file that is already in the library: use that model instead (it loads, and the chat opens). */
function UseExisting({ modelId }: { modelId: string }) {
  const actions = useActions();
  return (
    <div className="model-actions">
      <button type="button" className="btn btn-primary" onClick={() => void actions.useModelInChat(modelId)}>
        Use the model already in the library
      </button>
    </div>
  );
}

const ModelCard = memo(function ModelCard({ model }: { model: ModelSummary }) {
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
        <Spec label="Layers" value={String(model.layers)} />
        <Spec label="Context" value={`${model.contextLength.toLocaleString()} tokens`} />
        <Spec label="Size on disk" value={formatBytes(model.sizeBytes)} />
        <Spec
          label="Source"
          value={model.sourceFormat === "hf" ? "Hugging Face" : model.sourceFormat.toUpperCase()}
        />
        <Spec label="Imported from" value={model.sourceFile} />
        <Spec label="Imported" value={formatWhen(model.createdAt)} />
        <Spec
          label="Calibration"
          value={
            model.calibration.status === "calibrated"
              ? `Calibrated (${model.calibration.curve.length} points)`
              : calibrating
                ? "Calibrating…"
                : "Not calibrated"
          }
        />
      </dl>
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

function Spec({ label, value }: { label: string; value: string }) {
  return (
    <div className="spec">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
