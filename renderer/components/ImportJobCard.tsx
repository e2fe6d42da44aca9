import { memo, useEffect, useState } from "react";
import type { ImportJob } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import {
  jobDetail,
  jobMessage,
  overallProgress,
  sourceName,
  stageLabels,
  stageStates,
  type ImportStageName,
} from "../state/importJobs";
import { etaSeconds, formatEta, type ProgressSample } from "../state/importProgress";
import type { LocalImport } from "../state/store";
import { Icon } from "./Icon";
import { JobCardAction } from "./JobCardAction";
import { ImportSizes } from "./ImportSizes";

export function LocalImportCard({ item }: { item: LocalImport }) {
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

export const JobCard = memo(function JobCard({ job }: { job: ImportJob }) {
  const actions = useActions();
  const name = sourceName(job.source);
  const stages = stageStates(job);
  const progress = overallProgress(job);
  const pct = Math.round(progress * 100);
  const eta = useEta(job.jobId, progress);
  const message = jobMessage(job);
  const detail = jobDetail(job);
  const running = job.state === "running";
  // Being started again at another quantization: its cancel is part of the switch, not news.
  const switching = useApp((s) => job.jobId in s.switchingJobs);
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
        {running && (
          <span className="job-figures small" data-testid="import-figures">
            <strong data-testid="import-percent">{pct}%</strong>
            {eta !== null && <span className="muted"> · {formatEta(eta)}</span>}
          </span>
        )}
        <JobCardAction
          running={running}
          kind="import"
          name={name}
          onCancel={() => void actions.cancelImport(job.jobId)}
          onDismiss={() => actions.dismissJob(job.jobId)}
        />
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
      {job.plan && job.state !== "failed" && !(job.state === "cancelled" && switching) && (
        <ImportSizes job={{ ...job, plan: job.plan }} />
      )}
      {message && !switching && (
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
        <UseExisting modelId={job.errorDetail.modelId} jobId={job.jobId} />
      )}
    </article>
  );
});

/**
 * For a file that is already in the library: use that model instead (it loads, and the chat opens),
 * or import a second copy (when this window still holds the file it sent).
 */
function UseExisting({ modelId, jobId }: { modelId: string; jobId: string }) {
  const actions = useActions();
  const canAgain = useApp((s) => s.reimportable.includes(jobId));
  return (
    <div className="model-actions">
      <button type="button" className="btn btn-primary" onClick={() => void actions.useModelInChat(modelId)}>
        Use the model already in the library
      </button>
      {canAgain && (
        <button type="button" className="btn" onClick={() => void actions.importAgain(jobId)}>
          Import again anyway
        </button>
      )}
    </div>
  );
}

/** Seconds left for a running job, from the progress this card has seen (null until known). */
function useEta(jobId: string, progress: number): number | null {
  const [first] = useState<ProgressSample>(() => ({ at: performance.now(), progress }));
  const [eta, setEta] = useState<number | null>(null);
  useEffect(() => {
    // Each progress event: the pace since the card first saw this job.
    setEta(etaSeconds(first, { at: performance.now(), progress }));
  }, [first, jobId, progress]);
  return eta;
}
