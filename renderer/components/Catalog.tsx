// The catalog: small models that run well on a CPU, one card each with what to expect of it (size,
// memory, licence, what it is good for) and the exact file it fetches. What a new user sees first.
import type { CatalogEntry, DownloadJob, ModelSummary } from "../../electron/contract";
import { useApp } from "../state/context";
import { fileName, runningDownloadOf } from "../state/downloads";
import { formatBytes, formatMemory, formatParams } from "../state/format";

/** Why an entry cannot be downloaded now, or null when it can. */
export function catalogBlock(
  entry: CatalogEntry,
  jobs: readonly DownloadJob[],
  models: readonly ModelSummary[],
): string | null {
  if (runningDownloadOf(jobs, entry.repo, entry.file)) return "Downloading…";
  // Downloaded in this session (the job names the model), or imported before under the file's name.
  const downloaded = new Set(
    jobs
      .filter((j) => j.state === "done" && j.repo === entry.repo && j.file === entry.file)
      .map((j) => j.modelId),
  );
  const stem = fileName(entry.file).replace(/\.gguf$/i, "");
  if (models.some((m) => downloaded.has(m.id) || m.name === stem)) return "In your library";
  return null;
}

export function Catalog({
  entries,
  error,
  jobs,
  onDownload,
}: {
  entries: CatalogEntry[] | null;
  error: string | null;
  jobs: readonly DownloadJob[];
  onDownload: (entry: CatalogEntry) => void;
}) {
  const models = useApp((s) => s.models);
  return (
    <section className="catalog" aria-labelledby="catalog-title">
      <h2 id="catalog-title">Recommended models</h2>
      <p className="muted">Small models that run well on this computer's processor, ready to download.</p>
      {error && (
        <p className="job-error" role="alert">
          The catalog could not be loaded: {error}
        </p>
      )}
      {entries === null && !error && <p className="muted small">Loading the catalog…</p>}
      {entries && (
        <ul className="model-grid" aria-label="Catalog">
          {entries.map((entry) => {
            const block = catalogBlock(entry, jobs, models);
            return (
              <li
                key={entry.id}
                className="model-card catalog-card"
                data-testid="catalog-entry"
                aria-label={entry.name}
              >
                <div className="model-card-head">
                  <h3 className="model-name">{entry.name}</h3>
                  <span className="badge">{entry.licence}</span>
                </div>
                <p className="catalog-good-for">{entry.goodFor}</p>
                <dl className="specs">
                  <div className="spec">
                    <dt>Parameters</dt>
                    <dd>{formatParams(entry.params)}</dd>
                  </div>
                  <div className="spec">
                    <dt>Download</dt>
                    <dd>{formatBytes(entry.sizeBytes)}</dd>
                  </div>
                  <div className="spec">
                    <dt>Memory needed</dt>
                    <dd>{formatMemory(entry.ramBytes)}</dd>
                  </div>
                  <div className="spec">
                    <dt>Architecture</dt>
                    <dd>{entry.arch}</dd>
                  </div>
                </dl>
                <p className="catalog-source small muted" title="The exact file that is downloaded">
                  {entry.repo} · {entry.file}
                </p>
                <div className="model-actions">
                  <button
                    type="button"
                    className="btn btn-primary"
                    disabled={block !== null}
                    onClick={() => onDownload(entry)}
                    aria-label={`Download ${entry.name}`}
                  >
                    Download
                  </button>
                  {block && <span className="muted small">{block}</span>}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
