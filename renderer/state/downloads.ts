// Download jobs as the Models view shows them: the plain-words sentence for each reason a download
// can fail (keyed by the wire's DownloadErrorCode, never read out of a message), the state labels,
// and how a job list takes an update. Pure, so the unit tests cover it without a back end.
import type { DownloadJob, ImportJob } from "../../electron/contract";
import type { DownloadErrorCode, ErrorDetail } from "../../wire/errors";

/** The file's own name, without the repo's folders. */
export function fileName(path: string): string {
  return path.split("/").pop() || path;
}

const DOWNLOAD_MESSAGES: Record<DownloadErrorCode, (what: string) => string> = {
  not_found: (what) => `Hugging Face has no such repository or file (${what}). Check the spelling.`,
  unauthorized: (what) =>
    `${what} needs a Hugging Face access token, or the token given was refused. Add a token below and try again.`,
  gated: (what) =>
    `${what} is a gated model: its authors ask you to accept their terms on the Hugging Face website with your account first. Then add that account's access token below and try again.`,
  hash_mismatch: (what) =>
    `The downloaded file ${what} is not the one Hugging Face published (its checksum differs), so it was thrown away. Try again.`,
  disk_full: (what) => `There is not enough free disk space for ${what}. Free some space and try again.`,
  range_ignored: (what) =>
    `The connection broke while downloading ${what}, and the server cannot resume it. Try again.`,
  network: (what) => `The connection to Hugging Face failed while downloading ${what}. Try again.`,
  bad_reply: (what) =>
    `Hugging Face answered something Exitlane did not expect for ${what}. Try again later.`,
  unsupported: (what) =>
    `${what} is not a model Exitlane can run (its format, architecture or quantization).`,
};

/** The sentence for a download error code; `what` names the repo or file it concerns. */
export function downloadErrorMessage(code: DownloadErrorCode, what: string): string {
  return DOWNLOAD_MESSAGES[code](what);
}

/** What a failed download card says: by its code where it has one, else the back end's words. */
export function downloadFailure(job: DownloadJob): string {
  const code = job.errorDetail?.downloadCode;
  if (!code) return job.error ?? "The download failed.";
  // Access concerns the whole repo; a missing file is named in full; the rest concern the file.
  const what =
    code === "gated" || code === "unauthorized"
      ? job.repo
      : code === "not_found"
        ? `${job.repo}/${job.file}`
        : fileName(job.file);
  return downloadErrorMessage(code, what);
}

/** What a failed request (list files, start a download) says, by the ApiError's download code. */
export function requestFailure(err: unknown, what: string): { message: string; code?: DownloadErrorCode } {
  // An ApiError (wire/errors.ts) carries the code in its detail, whichever transport rebuilt it.
  const code = (err as { detail?: ErrorDetail } | null)?.detail?.downloadCode;
  if (code) {
    return { message: downloadErrorMessage(code, what), code };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/** Whether an error asks for an access token (the token field is offered then). */
export function needsToken(code: DownloadErrorCode | undefined): boolean {
  return code === "unauthorized" || code === "gated";
}

export const downloadStateLabels: Record<DownloadJob["state"], string> = {
  downloading: "Downloading",
  verifying: "Verifying",
  importing: "Importing",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function isRunning(job: DownloadJob): boolean {
  return job.state === "downloading" || job.state === "verifying" || job.state === "importing";
}

/** Replaces the job with the same id (or adds it); newest first. */
export function upsertDownload(jobs: readonly DownloadJob[], job: DownloadJob): DownloadJob[] {
  const i = jobs.findIndex((j) => j.jobId === job.jobId);
  if (i < 0) return [job, ...jobs];
  const next = jobs.slice();
  next[i] = job;
  return next;
}

/**
 * The card's progress (0..100): the bytes while downloading; while importing, the import job's own
 * progress, so one bar covers both.
 */
export function downloadPercent(job: DownloadJob, importJob?: ImportJob): number {
  if (job.state === "done") return 100;
  if (job.state === "importing") return Math.round((importJob?.progress ?? 0) * 100);
  if (job.totalBytes <= 0) return 0;
  return Math.min(100, Math.round((job.receivedBytes / job.totalBytes) * 100));
}

/** The running download of exactly this repo and file, if any. */
export function runningDownloadOf(
  jobs: readonly DownloadJob[],
  repo: string,
  file: string,
): DownloadJob | undefined {
  return jobs.find((j) => isRunning(j) && j.repo === repo && j.file === file);
}
