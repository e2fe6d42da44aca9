// Import job cards: ordering, overall progress and plain-words errors, pure.
import type { ImportJob } from "../../electron/contract";
import { failureHeadline } from "./importFailures";

export const importStages = ["read", "convert", "quantize", "write", "calibrate"] as const;
export type ImportStageName = (typeof importStages)[number];

export const stageLabels: Record<ImportStageName, string> = {
  read: "Read",
  convert: "Convert",
  quantize: "Quantize",
  write: "Write",
  calibrate: "Calibrate",
};

export type StageState = "done" | "active" | "pending" | "failed";

/**
 * The stages a job goes through: an import reads, converts, quantizes and writes (the model is in
 * the library then); its calibration is a job of its own, with that one stage.
 */
export function stagesOf(job: ImportJob): readonly ImportStageName[] {
  return job.stage === "calibrate" ? ["calibrate"] : importStages.filter((s) => s !== "calibrate");
}

/** The state of each stage of a job, for the stage list on its card. */
export function stageStates(
  job: ImportJob,
): { stage: ImportStageName; state: StageState; progress: number }[] {
  const stages = stagesOf(job);
  const current = stages.indexOf(job.stage);
  return stages.map((stage, i) => {
    if (job.state === "done") return { stage, state: "done", progress: 1 };
    if (i < current) return { stage, state: "done", progress: 1 };
    if (i === current) {
      const state: StageState = job.state === "failed" || job.state === "cancelled" ? "failed" : "active";
      return { stage, state, progress: clamp01(job.progress) };
    }
    return { stage, state: "pending", progress: 0 };
  });
}

/** Overall progress 0..1 over the job's stages. */
export function overallProgress(job: ImportJob): number {
  if (job.state === "done") return 1;
  const stages = stagesOf(job);
  const i = Math.max(0, stages.indexOf(job.stage));
  return (i + clamp01(job.progress)) / stages.length;
}

/** Inserts or replaces a job (events may repeat or arrive after models.jobs answered). */
export function upsertJob(jobs: readonly ImportJob[], job: ImportJob): ImportJob[] {
  const i = jobs.findIndex((j) => j.jobId === job.jobId);
  if (i === -1) return [...jobs, job];
  const prev = jobs[i];
  // A finished job never goes back to running (a stale progress event after the final one).
  if (prev.state !== "running" && job.state === "running") return jobs as ImportJob[];
  const next = jobs.slice();
  next[i] = job;
  return next;
}

/** The file or folder name of a job's source path. */
export function sourceName(source: string): string {
  const parts = source.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? source;
}

/**
 * The job's outcome as the card shows it. A failure says what its code means when the code says
 * something (a corrupt or incomplete file, a crash), else it gives the engine's words.
 */
export function jobMessage(job: ImportJob): string | null {
  switch (job.state) {
    case "failed":
      return (
        failureHeadline(job, sourceName(job.source)) ??
        (job.error?.trim() || `Importing ${sourceName(job.source)} failed for an unknown reason.`)
      );
    case "cancelled":
      return "Import cancelled. Nothing was added to the library.";
    case "done":
      return "Added to the library.";
    default:
      return null;
  }
}

/** The engine's own words under a code-specific message (null when the message already is them). */
export function jobDetail(job: ImportJob): string | null {
  if (job.state !== "failed" || !job.error?.trim()) return null;
  return failureHeadline(job, sourceName(job.source)) ? job.error.trim() : null;
}

/** What the library accepts, for error messages of drops the renderer can refuse by itself. */
export const supportedHint =
  "Exitlane imports a GGUF file (.gguf) or a Hugging Face model folder (config.json, tokenizer.json and *.safetensors).";

export interface DropGroup {
  /** One import: a single file, or every file of one folder. */
  label: string;
  files: File[];
}

/** Refuses what can never be a model, before any bytes are sent. Returns null when fine. */
export function precheckGroup(group: DropGroup): string | null {
  if (group.files.length === 0) return `${group.label} is empty. ${supportedHint}`;
  if (group.files.length === 1) {
    const name = group.files[0].name.toLowerCase();
    if (name.endsWith(".gguf") || name.endsWith(".bin") || name.endsWith(".safetensors")) return null;
    return `${group.label} is not a model file. ${supportedHint}`;
  }
  const names = group.files.map((f) => f.name.toLowerCase());
  if (!names.some((n) => n.endsWith(".safetensors") || n.endsWith(".gguf") || n.endsWith(".bin"))) {
    return `The folder ${group.label} has no model weights (*.safetensors). ${supportedHint}`;
  }
  return null;
}

function clamp01(v: number): number {
  return !Number.isFinite(v) ? 0 : v < 0 ? 0 : v > 1 ? 1 : v;
}
