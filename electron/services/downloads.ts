// Download jobs: a hub file fetched (hub/download-file.ts), verified, then handed to the normal
// import (ImportJobs), which the job follows to its end. The UI lists the jobs and gets
// `download.progress` events: a few a second while bytes arrive, and one at every state change.
// A cancel at any point leaves nothing behind: the download's folder is removed, and an import
// already started is cancelled (ImportJobs leaves the library as it was).
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { startingDownload, type DownloadJob, type ImportJob, type Quant } from "../contract.js";
import { ChannelError } from "./errors.js";
import type { EventBus } from "./event-bus.js";
import { listRepo } from "./hub/hub-client.js";
import { downloadError, type HubAccess } from "./hub/hub-http.js";
import { downloadFile, downloadsDirFor, KEEP_PART } from "./hub/download-file.js";
import { RateMeter } from "./hub/rate-meter.js";
import { checkRepoFile, parseRepoRef } from "./hub/repo-id.js";
import { supportProblem } from "./hub/support.js";
import type { ImportJobs } from "./import-jobs.js";

const PROGRESS_EVERY_MS = 250;
const FINISHED_JOBS_KEPT = 20;

export interface DownloadJobsOptions {
  access: HubAccess;
  imports: ImportJobs;
  events: EventBus;
  modelsDir: () => string;
  /** Free bytes on a folder's disk (tests inject it; the default asks the file system). */
  freeBytes?: (dir: string) => Promise<number>;
}

interface Tracked {
  job: DownloadJob;
  abort: AbortController;
  lastEmit: number;
  settled: Promise<void>;
}

const ENDED: ReadonlySet<DownloadJob["state"]> = new Set(["done", "failed", "cancelled"]);

export class DownloadJobs {
  private readonly jobs = new Map<string, Tracked>();

  constructor(private readonly o: DownloadJobsOptions) {}

  list(): DownloadJob[] {
    return [...this.jobs.values()].map((t) => ({ ...t.job }));
  }

  start(request: { repo: string; file: string; quant?: Quant }): { jobId: string } {
    const ref = parseRepoRef(request.repo);
    const file = checkRepoFile(request.file);
    const running = [...this.jobs.values()].find(
      (t) => !ENDED.has(t.job.state) && t.job.repo === ref.repo && t.job.file === file,
    );
    if (running)
      throw new ChannelError(
        "conflict",
        `${file} of ${ref.repo} is already being downloaded (see the downloads list).`,
      );
    const tracked: Tracked = {
      job: startingDownload(randomUUID(), ref.repo, file),
      abort: new AbortController(),
      lastEmit: 0,
      settled: Promise.resolve(),
    };
    this.jobs.set(tracked.job.jobId, tracked);
    this.prune();
    this.emit(tracked);
    tracked.settled = this.run(tracked, request.quant);
    return { jobId: tracked.job.jobId };
  }

  async cancel(jobId: string): Promise<{ cancelled: boolean }> {
    const tracked = this.jobs.get(jobId);
    if (!tracked) throw new ChannelError("not_found", `No download with id "${jobId}".`);
    if (ENDED.has(tracked.job.state)) return { cancelled: tracked.job.state === "cancelled" };
    tracked.abort.abort();
    await tracked.settled;
    return { cancelled: tracked.job.state === "cancelled" };
  }

  /** Stops every job for shutdown, keeping each .part so the same download, started again, resumes. */
  async stop(): Promise<void> {
    // An import under way is cancelled (ImportJobs leaves the library as it was).
    for (const t of this.jobs.values()) if (!ENDED.has(t.job.state)) t.abort.abort(KEEP_PART);
    await this.idle();
  }

  /** Resolves when every job has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((t) => t.settled));
  }

  private async run(tracked: Tracked, quant?: Quant): Promise<void> {
    const { job, abort } = tracked;
    const signal = abort.signal;
    const meter = new RateMeter();
    let folder: string | null = null;
    try {
      const listing = await listRepo(this.o.access, job.repo, signal);
      const hubFile = listing.files.find((f) => f.path === job.file);
      if (!hubFile)
        throw downloadError(
          "not_found",
          `The model ${job.repo} has no file ${job.file} (check the file name).`,
          404,
        );
      const problem = supportProblem(listing.arch, job.file);
      if (problem) throw downloadError("unsupported", `${job.file} cannot run in this app: ${problem}.`);
      this.update(tracked, { totalBytes: hubFile.sizeBytes });
      const downloaded = await downloadFile({
        access: this.o.access,
        repo: job.repo,
        file: job.file,
        downloadsDir: downloadsDirFor(this.o.modelsDir()),
        expected: { sha256: hubFile.sha256, sizeBytes: hubFile.sizeBytes },
        signal,
        freeBytes: this.o.freeBytes,
        onProgress: (receivedBytes, totalBytes) => {
          const bytesPerSecond = meter.add(receivedBytes);
          const change = {
            receivedBytes,
            totalBytes,
            bytesPerSecond,
            etaSeconds: meter.eta(totalBytes - receivedBytes),
          };
          this.update(tracked, change, receivedBytes < totalBytes);
        },
        onVerifying: () => this.update(tracked, { state: "verifying", etaSeconds: null }),
      });
      folder = downloaded.folder;
      if (signal.aborted) throw new ChannelError("cancelled", "cancelled");
      await this.importDownloaded(tracked, downloaded.path, downloaded.folder, quant);
      folder = null; // The import's cleanup removes it.
    } catch (error) {
      if (signal.aborted) this.update(tracked, { state: "cancelled" });
      else this.update(tracked, { state: "failed", ...failureOf(error) });
    } finally {
      if (folder) await rm(folder, { recursive: true, force: true });
    }
  }

  /** Hands the verified file to the normal import and follows that job to its end. */
  private async importDownloaded(tracked: Tracked, file: string, folder: string, quant?: Quant) {
    const { signal } = tracked.abort;
    let unsubscribe = () => {};
    const ended = new Promise<void>((resolve) => {
      unsubscribe = this.o.events.subscribe((event, payload) => {
        if (event !== "import.progress") return;
        const p = payload as ImportJob;
        if (p.jobId !== tracked.job.importJobId || p.state === "running") return;
        if (p.state === "done") this.update(tracked, { state: "done", modelId: p.modelId });
        else if (p.state === "cancelled") this.update(tracked, { state: "cancelled" });
        else
          this.update(tracked, {
            state: "failed",
            error: p.error,
            errorCode: p.errorCode,
            errorDetail: p.errorDetail,
          });
        resolve();
      });
    });
    try {
      // Set before startImport returns: its first events may arrive while it is still being awaited.
      const start = this.o.imports.startImport({
        source: file,
        displayName: path.basename(file),
        ...(quant ? { quant } : {}),
        cleanup: () => rm(folder, { recursive: true, force: true }),
      });
      const { jobId } = await start;
      this.update(tracked, { state: "importing", importJobId: jobId });
      const cancelImport = () => void this.o.imports.cancel(jobId).catch(() => undefined);
      if (signal.aborted) cancelImport();
      else signal.addEventListener("abort", cancelImport, { once: true });
      await ended;
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw error;
    } finally {
      unsubscribe();
    }
  }

  private update(tracked: Tracked, change: Partial<DownloadJob>, throttle = false): void {
    if (ENDED.has(tracked.job.state)) return; // The first ending wins.
    const stateChanged = change.state !== undefined && change.state !== tracked.job.state;
    tracked.job = { ...tracked.job, ...change };
    const now = performance.now();
    if (throttle && !stateChanged && now - tracked.lastEmit < PROGRESS_EVERY_MS) return;
    tracked.lastEmit = now;
    this.emit(tracked);
  }

  private emit(tracked: Tracked): void {
    this.o.events.emit("download.progress", { ...tracked.job });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((t) => ENDED.has(t.job.state));
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT)))
      this.jobs.delete(old.job.jobId);
  }
}

function failureOf(error: unknown): Pick<DownloadJob, "error" | "errorCode" | "errorDetail"> {
  if (!(error instanceof ChannelError))
    return { error: error instanceof Error ? error.message : String(error), errorCode: "internal" };
  return {
    error: error.message,
    errorCode: error.code,
    ...(error.detail ? { errorDetail: error.detail } : {}),
  };
}
