// Import and calibration jobs: a registry the UI can list, progress events from the engine host,
// and cancel. The engine writes each model package atomically, so a failed or cancelled job leaves
// the library exactly as it was; this registry only tracks and reports.
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { ImportJob, Quant } from "../contract.js";
import type { EngineClient } from "./engine-client.js";
import { ChannelError } from "./errors.js";
import type { EventBus } from "./event-bus.js";

/** Finished jobs kept for the UI's job list; running ones are always kept. */
const FINISHED_JOBS_KEPT = 20;

export interface ImportRequest {
  /** A file or folder the user chose (dialog, drop) or that the web host received as an upload. */
  source: string;
  /** What the UI shows as the source (an upload's original file name rather than its temp path). */
  displayName?: string;
  quant?: Quant;
  /** Runs once the job has ended, however it ended (removes an upload's temp folder). */
  cleanup?: () => Promise<void>;
}

interface Tracked {
  job: ImportJob;
  cancelRequested: boolean;
}

export class ImportJobs {
  private readonly jobs = new Map<string, Tracked>();

  constructor(
    private readonly engine: EngineClient,
    private readonly events: EventBus,
    private readonly modelsDir: () => string,
  ) {
    engine.onEvent((event) => {
      if (event.event !== "progress") return;
      const tracked = this.jobs.get(event.jobId);
      if (!tracked || tracked.job.state !== "running") return;
      this.update(tracked, { stage: event.stage, progress: event.progress });
    });
  }

  list(): ImportJob[] {
    return [...this.jobs.values()].map((t) => ({ ...t.job }));
  }

  async startImport(request: ImportRequest): Promise<{ jobId: string }> {
    // Checks first, so a refused import changes nothing.
    await this.engine.require("importModel");
    await mustExist(request.source);
    const tracked = this.track(request.displayName ?? path.basename(request.source), "read");
    const { jobId } = tracked.job;
    const params = {
      jobId,
      source: request.source,
      modelsDir: this.modelsDir(),
      ...(request.quant ? { quant: request.quant } : {}),
    };
    void this.run(tracked, this.engine.request("importModel", params), request.cleanup);
    return { jobId };
  }

  async startCalibration(modelId: string, modelName: string): Promise<{ jobId: string }> {
    await this.engine.require("calibrate");
    const tracked = this.track(modelName, "calibrate");
    void this.run(
      tracked,
      this.engine.request("calibrate", { jobId: tracked.job.jobId, modelsDir: this.modelsDir(), modelId }),
    );
    return { jobId: tracked.job.jobId };
  }

  async cancel(jobId: string): Promise<{ cancelled: boolean }> {
    const tracked = this.jobs.get(jobId);
    if (!tracked) throw new ChannelError("not_found", `No import job with id "${jobId}".`);
    if (tracked.job.state !== "running") return { cancelled: false };
    await this.engine.require("cancel");
    tracked.cancelRequested = true;
    const { cancelled } = await this.engine.request("cancel", { jobId });
    if (cancelled) this.update(tracked, { state: "cancelled" });
    return { cancelled };
  }

  private track(source: string, stage: ImportJob["stage"]): Tracked {
    const tracked: Tracked = {
      job: { jobId: randomUUID(), source, stage, progress: 0, state: "running" },
      cancelRequested: false,
    };
    this.jobs.set(tracked.job.jobId, tracked);
    this.events.emit("import.progress", { ...tracked.job });
    this.prune();
    return tracked;
  }

  private async run(
    tracked: Tracked,
    work: Promise<{ model: { id: string } }>,
    cleanup?: () => Promise<void>,
  ) {
    try {
      const { model } = await work;
      this.update(tracked, { state: "done", progress: 1, modelId: model.id });
      this.events.emit("models.changed", {});
    } catch (error) {
      if (tracked.cancelRequested) this.update(tracked, { state: "cancelled" });
      else
        this.update(tracked, {
          state: "failed",
          error: error instanceof Error ? error.message : String(error),
        });
    } finally {
      await cleanup?.().catch((error) =>
        console.error(`[import] cleanup of ${tracked.job.jobId} failed:`, error),
      );
    }
  }

  private update(tracked: Tracked, change: Partial<ImportJob>): void {
    if (tracked.job.state !== "running") return; // The first terminal state wins.
    tracked.job = { ...tracked.job, ...change };
    this.events.emit("import.progress", { ...tracked.job });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((t) => t.job.state !== "running");
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT)))
      this.jobs.delete(old.job.jobId);
  }
}

async function mustExist(source: string): Promise<void> {
  try {
    await stat(source);
  } catch {
    throw new ChannelError(
      "not_found",
      `Cannot import "${source}": the file or folder does not exist or cannot be read.`,
    );
  }
}
