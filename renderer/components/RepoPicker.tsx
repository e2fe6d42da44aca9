// "Paste a Hugging Face repo id or URL": lists the repo's GGUF files with their sizes and the
// architecture, says plainly when the engine cannot run them, and downloads the one picked. When
// the hub asks for an access token (a private or gated model) the token field is offered.
import { useEffect, useState } from "react";
import type { ReplyOf } from "../../electron/contract";
import type { DownloadErrorCode } from "../../wire/errors";
import { useApi } from "../state/context";
import { needsToken, requestFailure, runningDownloadOf } from "../state/downloads";
import { formatBytes } from "../state/format";
import type { Downloads } from "../state/useDownloads";
import { TokenField } from "./TokenField";

type Listing = ReplyOf<"hub.listRepo">;

export function RepoPicker({ downloads }: { downloads: Downloads }) {
  const api = useApi();
  const [repo, setRepo] = useState("");
  const [listing, setListing] = useState<Listing | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; code?: DownloadErrorCode } | null>(null);
  const [showToken, setShowToken] = useState(false);

  const list = async () => {
    const wanted = repo.trim();
    if (!wanted) return;
    setBusy(true);
    setError(null);
    setListing(null);
    setPicked(null);
    try {
      const reply = await api.request("hub.listRepo", { repo: wanted });
      setListing(reply);
      if (reply.files.length === 1) setPicked(reply.files[0]!.path);
    } catch (err) {
      const failure = requestFailure(err, wanted);
      setError(failure);
      if (needsToken(failure.code)) setShowToken(true);
    } finally {
      setBusy(false);
    }
  };

  const download = async () => {
    if (!listing || !picked) return;
    setError(null);
    try {
      await downloads.start(listing.repo, picked);
    } catch (err) {
      const failure = requestFailure(err, picked);
      setError(failure);
      if (needsToken(failure.code)) setShowToken(true);
    }
  };

  // A download that the hub refused for want of a token opens the token field too.
  const jobWantsToken = downloads.jobs.some(
    (j) => j.state === "failed" && needsToken(j.errorDetail?.downloadCode),
  );
  useEffect(() => {
    if (jobWantsToken) setShowToken(true);
  }, [jobWantsToken]);
  const running = listing && picked ? runningDownloadOf(downloads.jobs, listing.repo, picked) : undefined;

  return (
    <section className="repo-picker" aria-labelledby="repo-picker-title">
      <h2 id="repo-picker-title">Any model from Hugging Face</h2>
      <form
        className="repo-form"
        onSubmit={(e) => {
          e.preventDefault();
          void list();
        }}
      >
        <input
          type="text"
          className="text-input"
          aria-label="Hugging Face repo id or URL"
          placeholder="Paste a Hugging Face repo id or URL, e.g. owner/model-GGUF"
          value={repo}
          maxLength={500}
          spellCheck={false}
          onChange={(e) => setRepo(e.target.value)}
        />
        <button type="submit" className="btn" disabled={busy || !repo.trim()}>
          {busy ? "Listing…" : "List files"}
        </button>
      </form>
      {error && (
        <p className="job-error" role="alert" data-testid="repo-error">
          {error.message}
        </p>
      )}
      {listing && (
        <div className="repo-files" data-testid="repo-files">
          <p className="muted small">
            {listing.repo}
            {listing.arch ? ` · architecture ${listing.arch}` : ""}
          </p>
          {listing.unsupported && (
            <p className="notice" role="note" data-testid="repo-unsupported">
              {listing.unsupported}
            </p>
          )}
          {listing.files.length === 0 ? (
            !listing.unsupported && <p className="muted">This repository has no GGUF files.</p>
          ) : (
            <fieldset className="file-list" disabled={Boolean(listing.unsupported)}>
              <legend className="visually-hidden">GGUF files</legend>
              {listing.files.map((f) => (
                <label key={f.path} className="file-option">
                  <input
                    type="radio"
                    name="repo-file"
                    value={f.path}
                    checked={picked === f.path}
                    onChange={() => setPicked(f.path)}
                  />
                  <span className="file-path">{f.path}</span>
                  <span className="muted small">{formatBytes(f.sizeBytes)}</span>
                </label>
              ))}
            </fieldset>
          )}
          <div className="model-actions">
            <button
              type="button"
              className="btn btn-primary"
              disabled={Boolean(listing.unsupported) || !picked || Boolean(running)}
              onClick={() => void download()}
            >
              Download
            </button>
            {running && <span className="muted small">Downloading…</span>}
          </div>
        </div>
      )}
      <details
        className="token-details"
        open={showToken}
        onToggle={(e) => setShowToken((e.target as HTMLDetailsElement).open)}
      >
        <summary>Access token (for private or gated models)</summary>
        <TokenField />
      </details>
    </section>
  );
}
