import { useEffect, useRef } from "react";
import { useActions, useApp } from "../state/context";
import { groupsFromFolderInput } from "../state/dropFiles";
import { supportedHint } from "../state/importJobs";
import { importUnderWay, visibleLocalImports } from "../state/importProgress";
import { useDownloads } from "../state/useDownloads";
import { requestFailure } from "../state/downloads";
import { Catalog } from "./Catalog";
import { DownloadCard } from "./DownloadCard";
import { Icon } from "./Icon";
import { JobCard, LocalImportCard } from "./ImportJobCard";
import { ModelCard } from "./ModelCard";
import { QuantChooser } from "./QuantChooser";
import { RepoPicker } from "./RepoPicker";

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
  // One card per file: an upload's card gives way to its job's as soon as the job reports.
  const uploads = visibleLocalImports(local, importJobs);
  const importing = importUnderWay(local, importJobs);
  return (
    <div className="page models-view">
      <header className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">
            Drop a GGUF file or a Hugging Face model folder anywhere on this window, or import one.
          </p>
        </div>
        <div className="import-controls">
          <ImportButtons />
          <QuantChooser />
        </div>
      </header>
      {(importJobs.length > 0 || uploads.length > 0) && (
        <section className="jobs" aria-label="Imports">
          {uploads.map((l) => (
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
        {loaded && models.length === 0 && !importing ? (
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
