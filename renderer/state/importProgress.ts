// What an import card shows besides its stages: the overall percentage, a time estimate from the
// progress seen so far, and which cards to show (one per file: the upload's "sending" card gives
// way to the job's card as soon as the job reports, even before the upload's reply arrives).
import type { ImportJob } from "../../electron/contract";
import { sourceName } from "./importJobs";
import type { LocalImport } from "./store";

export interface ProgressSample {
  /** ms, any monotonic clock. */
  at: number;
  /** Overall progress 0..1. */
  progress: number;
}

/** Seconds left at the pace seen so far; null until there is enough to go by (2 s and 2%). */
export function etaSeconds(first: ProgressSample, last: ProgressSample): number | null {
  const ms = last.at - first.at;
  const done = last.progress - first.progress;
  if (ms < 2000 || done < 0.02 || last.progress >= 1) return null;
  return ((1 - last.progress) * ms) / done / 1000;
}

/** "about 40 s left", "about 3 min left", "about 1 h 10 min left". */
export function formatEta(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s left`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `about ${min} min left`;
  return `about ${Math.floor(min / 60)} h ${min % 60} min left`;
}

/** The uploads still shown: a "sending" one hides once a job for the same file has reported. */
export function visibleLocalImports(
  local: readonly LocalImport[],
  jobs: readonly ImportJob[],
): LocalImport[] {
  return local.filter(
    (l) =>
      l.state !== "sending" ||
      !jobs.some((j) => j.stage !== "calibrate" && j.state !== "done" && sourceName(j.source) === l.label),
  );
}

/** A model is on its way in (the library's "No models yet" would be wrong to show). */
export function importUnderWay(local: readonly LocalImport[], jobs: readonly ImportJob[]): boolean {
  return (
    local.some((l) => l.state === "sending") ||
    jobs.some((j) => j.state === "running" && j.stage !== "calibrate")
  );
}
