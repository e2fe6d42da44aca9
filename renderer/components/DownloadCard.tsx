// One card per model download: a progress bar, bytes, speed and time left while downloading; then
// verifying and importing (following the import job the back end started, so no second import
// card shows for it); on done, "Use this model". Failures are worded by their code (state/downloads).
import { memo, useEffect, useRef } from "react";
import type { DownloadJob } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import {
  downloadFailure,
  downloadPercent,
  downloadStateLabels,
  fileName,
  isRunning,
} from "../state/downloads";
import { formatBytes, formatEta, formatSpeed } from "../state/format";
import { jobMessage, stageLabels, type ImportStageName } from "../state/importJobs";
import { Icon } from "./Icon";
import { JobCardAction } from "./JobCardAction";

export const DownloadCard = memo(function DownloadCard({
  job,
  onCancel,
  onDismiss,
  justStarted = false,
}: {
  job: DownloadJob;
  onCancel: (jobId: string) => void;
  onDismiss: (jobId: string) => void;
  /** Started by a click in this view: the card scrolls into sight (the button may be far below). */
  justStarted?: boolean;
}) {
  const actions = useActions();
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (justStarted) ref.current?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }, [justStarted]);
  const importJob = useApp((s) =>
    job.importJobId ? s.jobs.find((j) => j.jobId === job.importJobId) : undefined,
  );
  const selecting = useApp((s) => s.selectingModelId);
  const name = fileName(job.file);
  const pct = downloadPercent(job, importJob);
  const running = isRunning(job);
  const state = downloadStateLabels[job.state];
  const modelId = job.modelId ?? importJob?.modelId;
  const failed = job.state === "failed" || importJob?.state === "failed";

  const use = async () => {
    if (modelId) await actions.useModelInChat(modelId);
  };

  return (
    <article
      ref={ref}
      className={`job-card download-card ${job.state}`}
      aria-label={`Download of ${name}`}
      data-testid="download-job"
      data-state={job.state}
    >
      <div className="job-head">
        <Icon name={failed ? "alert" : job.state === "done" ? "check" : "download"} />
        <h3 title={`${job.repo}/${job.file}`}>{name}</h3>
        <span className="badge" data-testid="download-state">
          {state}
        </span>
        <JobCardAction
          running={running}
          kind="download"
          name={name}
          onCancel={() => onCancel(job.jobId)}
          onDismiss={() => onDismiss(job.jobId)}
        />
      </div>
      <p className="muted small download-source">{job.repo}</p>
      {job.state !== "failed" && job.state !== "cancelled" && (
        <div
          className="progress"
          role="progressbar"
          aria-label={`Download of ${name}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          aria-valuetext={`${state}: ${pct}%`}
        >
          <div className="progress-fill" style={{ width: `${pct}%` }} />
        </div>
      )}
      {job.state === "downloading" && (
        <p className="download-stats muted small" data-testid="download-stats">
          <span>
            {formatBytes(job.receivedBytes)} of {job.totalBytes > 0 ? formatBytes(job.totalBytes) : "—"}
          </span>
          <span data-testid="download-speed">{formatSpeed(job.bytesPerSecond)}</span>
          <span data-testid="download-eta">{formatEta(job.etaSeconds)}</span>
        </p>
      )}
      {job.state === "verifying" && (
        <p className="muted small">Checking the file against the checksum Hugging Face published…</p>
      )}
      {job.state === "importing" && (
        <p className="muted small" data-testid="download-import">
          {importJob
            ? `${stageLabels[importJob.stage as ImportStageName] ?? importJob.stage}: ${Math.round(importJob.progress * 100)}%`
            : "Preparing the model…"}
        </p>
      )}
      {job.state === "failed" && (
        <p className="job-error" role="alert" data-testid="download-error">
          {downloadFailure(job)}
        </p>
      )}
      {job.state === "importing" && importJob?.state === "failed" && (
        <p className="job-error" role="alert" data-testid="download-error">
          {jobMessage(importJob) ?? "The downloaded file could not be imported."}
        </p>
      )}
      {job.state === "cancelled" && <p className="muted small">The download was cancelled.</p>}
      {job.state === "done" && modelId && (
        <div className="model-actions">
          <button
            type="button"
            className="btn btn-primary"
            disabled={selecting !== null}
            onClick={() => void use()}
            aria-label={`Use ${name}`}
          >
            Use this model
          </button>
        </div>
      )}
    </article>
  );
});
