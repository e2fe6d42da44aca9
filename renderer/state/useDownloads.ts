// The Models view's download state: the jobs (listed when the view opens, then kept current by
// download.progress events), the catalog, and start/cancel. Local to the view: a job that ran
// while another view was open is picked up again by downloads.list.
import { useCallback, useEffect, useState } from "react";
import { startingDownload, type CatalogEntry, type DownloadJob } from "../../electron/contract";
import { useApi, useApp } from "./context";
import { upsertDownload } from "./downloads";

export interface Downloads {
  jobs: DownloadJob[];
  catalog: CatalogEntry[] | null;
  catalogError: string | null;
  /** The job this view started last (its card scrolls into sight). */
  lastStarted: string | null;
  /** Starts a download; rejects with the request's error (the caller words it). */
  start(repo: string, file: string): Promise<void>;
  cancel(jobId: string): Promise<void>;
  dismiss(jobId: string): void;
}

export function useDownloads(): Downloads {
  const api = useApi();
  const refreshModels = useApp((s) => s.refreshModels);
  const toast = useApp((s) => s.toast);
  const [jobs, setJobs] = useState<DownloadJob[]>([]);
  const [catalog, setCatalog] = useState<CatalogEntry[] | null>(null);
  const [catalogError, setCatalogError] = useState<string | null>(null);
  const [lastStarted, setLastStarted] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const off = api.on("download.progress", (job) => {
      setJobs((list) => upsertDownload(list, job));
      // The new model joins the library (refreshing twice is harmless).
      if (job.state === "done") void refreshModels();
    });
    api
      .request("downloads.list", {})
      .then((listed) => {
        if (live) setJobs((list) => listed.reduce((acc, j) => upsertDownload(acc, j), list));
      })
      .catch(() => {
        // An older back end without downloads: the view simply shows none.
      });
    api
      .request("hub.catalog", {})
      .then((entries) => live && setCatalog(entries))
      .catch((err: unknown) => live && setCatalogError(err instanceof Error ? err.message : String(err)));
    return () => {
      live = false;
      off();
    };
  }, [api, refreshModels]);

  const start = useCallback(
    async (repo: string, file: string) => {
      const { jobId } = await api.request("downloads.start", { repo, file });
      setLastStarted(jobId);
      setJobs((list) =>
        list.some((j) => j.jobId === jobId)
          ? list
          : upsertDownload(list, startingDownload(jobId, repo, file)),
      );
    },
    [api],
  );

  const cancel = useCallback(
    async (jobId: string) => {
      try {
        await api.request("downloads.cancel", { jobId });
      } catch (err) {
        toast("error", `Could not cancel the download: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    [api, toast],
  );

  const dismiss = useCallback((jobId: string) => {
    setJobs((list) => list.filter((j) => j.jobId !== jobId));
  }, []);

  return { jobs, catalog, catalogError, lastStarted, start, cancel, dismiss };
}
