// Import and calibration jobs: a registry the UI can list, progress events from the engine host,
// and cancel. The engine writes each model package atomically, so a failed or cancelled job leaves
// the library exactly as it was; this registry tracks and reports, and makes "cancelled" true: a
// cancel waits (briefly) for the engine to confirm, and an import that the engine committed before
// the cancel reached it is either reported as done (when that is known in time) or removed again.
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { ImportJob, ModelSummary, Quant } from "../contract.js";
import type { EngineClient } from "./engine-client.js";
import { ChannelError } from "./errors.js";
import type { EventBus } from "./event-bus.js";

/** Finished jobs kept for the UI's job list; running ones are always kept. */
const FINISHED_JOBS_KEPT = 20;
/** How long a cancel waits for the engine to wind the job down before it reports "cancelled" anyway. */
const CANCEL_WAIT_MS = 3000;

export interface ImportRequest {
  /** A file or folder the user chose (dialog, drop) or that the web host received as an upload. */
  source: string;
  /** What the UI shows as the source (an upload's original file name rather than its temp path). */
  displayName?: string;
  quant?: Quant;
  /** Import a second copy of a file the library already holds (otherwise the job fails with already_imported). */
  again?: boolean;
  /** Runs once the job has ended, however it ended (removes an upload's temp folder). */
  cleanup?: () => Promise<void>;
}

interface Tracked {
  job: ImportJob;
  kind: "import" | "calibration";
  cancelRequested: boolean;
  /** Resolves once the engine's work has ended, however it ended. */
  settled: Promise<void>;
  /** An import's request, to start it again at another quantization. */
  request?: ImportRequest;
  /** Runs when the job ends, unless a restart took it over along with the source. */
  cleanup?: () => Promise<void>;
}

export class ImportJobs {
  private readonly jobs = new Map<string, Tracked>();
  /** Models whose calibration job is running (one at a time per model). */
  private readonly calibrating = new Set<string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly events: EventBus,
    private readonly modelsDir: () => string,
    /** Start a calibration job when an import succeeds (the app does; some tests opt out). */
    private readonly calibrateAfterImport = true,
  ) {
    engine.onEvent((event) => {
      if (event.event !== "progress") return;
      const tracked = this.jobs.get(event.jobId);
      if (!tracked || tracked.job.state !== "running") return;
      this.update(tracked, {
        stage: event.stage,
        progress: event.progress,
        ...(event.plan ? { plan: event.plan } : {}),
      });
    });
  }

  list(): ImportJob[] {
    return [...this.jobs.values()].map((t) => ({ ...t.job }));
  }

  async startImport(request: ImportRequest): Promise<{ jobId: string }> {
    // Checks first, so a refused import changes nothing.
    await this.engine.require("importModel");
    await mustExist(request.source);
    const tracked = this.track(request.displayName ?? path.basename(request.source), "read", "import");
    tracked.request = request;
    tracked.cleanup = request.cleanup;
    const { jobId } = tracked.job;
    const modelsDir = this.modelsDir();
    const params = {
      jobId,
      source: request.source,
      modelsDir,
      ...(request.quant ? { quant: request.quant } : {}),
      duplicates: request.again ? ("allow" as const) : ("refuse" as const),
    };
    // An upload's or a download's temporary path means nothing to the user: messages name the file.
    const shown = request.displayName ? { path: request.source, as: request.displayName } : undefined;
    tracked.settled = this.run(tracked, this.engine.request("importModel", params), modelsDir, shown);
    return { jobId };
  }

  /**
   * Stops a running import and starts it again at `quant` from the same source. The source (an
   * upload's or a download's temporary copy) passes to the new job, whose end removes it; the old
   * job is cancelled (the engine removes what it had written) and leaves the list once it has ended.
   */
  async restartImport(jobId: string, quant: Quant): Promise<{ jobId: string }> {
    const tracked = this.jobs.get(jobId);
    if (!tracked?.request || tracked.job.state !== "running")
      throw new ChannelError("not_found", `No running import with id "${jobId}".`);
    const request = { ...tracked.request, quant, cleanup: tracked.cleanup };
    tracked.cleanup = undefined;
    try {
      await this.cancel(jobId);
    } finally {
      // Cancelled or not (it may have finished just now), the new job owns the source.
      void tracked.settled.then(() => this.jobs.delete(jobId));
    }
    try {
      return await this.startImport(request);
    } catch (error) {
      await request.cleanup?.().catch(() => {});
      throw error;
    }
  }

  async startCalibration(modelId: string, modelName: string): Promise<{ jobId: string }> {
    await this.engine.require("calibrate");
    const tracked = this.track(modelName, "calibrate", "calibration");
    const modelsDir = this.modelsDir();
    this.calibrating.add(modelId);
    tracked.settled = this.run(
      tracked,
      this.engine.request("calibrate", { jobId: tracked.job.jobId, modelsDir, modelId }),
      modelsDir,
    ).finally(() => this.calibrating.delete(modelId));
    return { jobId: tracked.job.jobId };
  }

  /**
   * Measures again, one after another, the models whose stored calibration no longer describes
   * the engine that runs them (calibration.stale: say, measured while onnxruntime stood in for
   * the native kernels). Each is a calibration job like any other: progress, cancel.
   */
  async recalibrateStale(models: readonly ModelSummary[]): Promise<void> {
    for (const model of models) {
      if (!model.calibration.stale || this.calibrating.has(model.id)) continue;
      const { jobId } = await this.startCalibration(model.id, model.name);
      await this.jobs.get(jobId)?.settled;
    }
  }

  /**
   * Asks the engine to stop the job and waits for it to end (up to CANCEL_WAIT_MS). `cancelled` is
   * false when the job had already finished, or finished before the engine saw the cancel.
   */
  async cancel(jobId: string): Promise<{ cancelled: boolean }> {
    const tracked = this.jobs.get(jobId);
    if (!tracked) throw new ChannelError("not_found", `No import job with id "${jobId}".`);
    if (tracked.job.state !== "running") return { cancelled: tracked.job.state === "cancelled" };
    await this.engine.require("cancel");
    tracked.cancelRequested = true;
    const { cancelled } = await this.engine.request("cancel", { jobId });
    if (!cancelled) {
      // The engine no longer runs it: its reply is on the way and decides the outcome.
      tracked.cancelRequested = false;
      await tracked.settled;
      return { cancelled: stateOf(tracked) === "cancelled" };
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      tracked.settled.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CANCEL_WAIT_MS))),
    ]);
    clearTimeout(timer);
    // Still winding down (say, in the middle of a calibration step): report it cancelled now; run()
    // removes the model should the engine commit it after all.
    if (!waited) this.update(tracked, { state: "cancelled" });
    return { cancelled: stateOf(tracked) === "cancelled" };
  }

  /** Resolves when every job has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((t) => t.settled));
  }

  private track(source: string, stage: ImportJob["stage"], kind: Tracked["kind"]): Tracked {
    const tracked: Tracked = {
      job: { jobId: randomUUID(), source, stage, progress: 0, state: "running" },
      kind,
      cancelRequested: false,
      settled: Promise.resolve(),
    };
    this.jobs.set(tracked.job.jobId, tracked);
    this.events.emit("import.progress", { ...tracked.job });
    this.prune();
    return tracked;
  }

  private async run(
    tracked: Tracked,
    work: Promise<{ model: { id: string } }>,
    modelsDir: string,
    shown?: { path: string; as: string },
  ): Promise<void> {
    try {
      const { model } = await work;
      if (tracked.job.state === "cancelled" && tracked.kind === "import") {
        // The user was told "cancelled" and the engine committed the package anyway (the cancel
        // arrived after its last check): take it out again, so a cancelled import changes nothing.
        await this.engine
          .request("deleteModel", { modelsDir, modelId: model.id })
          .catch((error) => console.error(`[import] could not remove cancelled import ${model.id}:`, error));
        return;
      }
      // A calibration that completed is stored whatever the UI was told: say so.
      if (tracked.job.state === "cancelled") tracked.job = { ...tracked.job, state: "running" };
      this.update(tracked, { state: "done", progress: 1, modelId: model.id });
      this.events.emit("models.changed", {});
      // A new model chats at full depth at once; its early-exit calibration follows as its own job
      // (progress, cancel), and the slider unlocks when it is done.
      if (tracked.kind === "import" && this.calibrateAfterImport) {
        await this.startCalibration(model.id, (model as { name?: string }).name ?? tracked.job.source).catch(
          (error) => console.error(`[import] could not start calibrating ${model.id}:`, error),
        );
      }
    } catch (error) {
      if (tracked.cancelRequested) this.update(tracked, { state: "cancelled" });
      else this.update(tracked, { state: "failed", ...failureOf(error, shown) });
    } finally {
      await tracked
        .cleanup?.()
        .catch((error) => console.error(`[import] cleanup of ${tracked.job.jobId} failed:`, error));
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

/** A failed job's message, code and detail, as the engine (or the engine client) gave them. */
function failureOf(
  error: unknown,
  shown?: { path: string; as: string },
): Pick<ImportJob, "error" | "errorCode" | "errorDetail"> {
  const name = (text: string) => (shown ? text.replaceAll(shown.path, shown.as) : text);
  if (!(error instanceof ChannelError))
    return { error: name(error instanceof Error ? error.message : String(error)), errorCode: "internal" };
  const detail = error.detail && {
    ...error.detail,
    ...(error.detail.file ? { file: name(error.detail.file) } : {}),
  };
  return { error: name(error.message), errorCode: error.code, ...(detail ? { errorDetail: detail } : {}) };
}

/** Read through a function: the state changes while cancel() awaits (TypeScript would narrow it). */
function stateOf(tracked: Tracked): ImportJob["state"] {
  return tracked.job.state;
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
