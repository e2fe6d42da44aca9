// The main process's handle on the engine host process: numbered requests, streamed events,
// and crash recovery. When the host dies, every pending request fails with code engine_crashed
// and a clear message, the status goes to "restarting", and a fresh host is started (with
// backoff); after too many crashes in a short time it stays "crashed" instead of looping.
// The host's error replies keep their code and detail.
import { z } from "zod";
import type { EngineStatus } from "../contract.js";
import {
  hostMethods,
  parseHostMessage,
  type HostEvent,
  type HostMethod,
  type ParamsOf,
  type ResultOf,
} from "../../native-models/host/protocol.js";
import { ChannelError, notAvailableYet } from "./errors.js";
import type { HostExit, HostProcess, SpawnHost } from "./host-process.js";

export interface EngineClientOptions {
  spawn: SpawnHost;
  /** Wait before the 1st, 2nd, 3rd... restart after consecutive crashes. */
  restartDelaysMs?: number[];
  /** This many crashes within `crashWindowMs` and the client gives up ("crashed"). */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** A host that has not said "ready" by then is killed and counted as a crash. */
  readyTimeoutMs?: number;
}

interface Pending {
  method: HostMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/** Human names for methods, used in "not available yet" errors. */
const FEATURE_NAMES: Partial<Record<HostMethod, string>> = {
  importModel: "Model import",
  calibrate: "Calibration",
  generate: "Generation",
  load: "Loading a model",
  listModels: "The model library",
  renameModel: "Renaming a model",
  deleteModel: "Deleting a model",
};

export class EngineClient {
  private readonly options: Required<EngineClientOptions>;
  private host: HostProcess | null = null;
  private methods = new Set<string>();
  private readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private isReady = false;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private current: EngineStatus = { state: "starting", loadedModelId: null };
  private readonly eventListeners = new Set<(event: HostEvent) => void>();
  private readonly statusListeners = new Set<(status: EngineStatus) => void>();
  private readonly crashListeners = new Set<(reason: string) => void>();

  constructor(options: EngineClientOptions) {
    this.options = {
      restartDelaysMs: [200, 1000, 3000],
      maxCrashes: 5,
      crashWindowMs: 60_000,
      readyTimeoutMs: 30_000,
      ...options,
    };
  }

  /** Starts the host (once) and resolves when it is ready. */
  start(): Promise<void> {
    if (!this.host && !this.restartTimer && !this.closed) this.launch();
    return this.whenReady();
  }

  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (this.closed) return Promise.reject(shutDownError());
    if (this.current.state === "crashed") return Promise.reject(this.crashedError());
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Whether the running host implements a method (false until it is ready). */
  supports(method: HostMethod): boolean {
    return this.methods.has(method);
  }

  /** Fails with "not available yet" when the engine lacks the method. */
  async require(method: HostMethod): Promise<void> {
    await this.start();
    if (!this.supports(method)) throw notAvailableYet(FEATURE_NAMES[method] ?? `Engine method "${method}"`);
  }

  async request<M extends HostMethod>(
    method: M,
    params: ParamsOf<M>,
    { timeoutMs = 0 } = {},
  ): Promise<ResultOf<M>> {
    await this.start();
    const host = this.host;
    if (!host)
      throw this.closed ? shutDownError() : new ChannelError("engine_error", "The engine is not running.");
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const entry: Pending = { method, resolve: resolve as (r: unknown) => void, reject };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(
            new ChannelError("engine_error", `The engine did not answer ${method} within ${timeoutMs} ms.`),
          );
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      host.send({ id, method, params });
    });
  }

  status(): EngineStatus {
    return this.current;
  }

  /** Records what the engine has loaded and what runs it, so `engine.status` can tell the UI. */
  setLoadedModel(
    loadedModelId: string | null,
    loaded: { fallbackNotice?: string; kernels?: EngineStatus["kernels"] } = {},
  ): void {
    this.setStatus({
      state: this.current.state,
      loadedModelId,
      ...(loaded.fallbackNotice ? { fallbackNotice: loaded.fallbackNotice } : {}),
      ...(loadedModelId && loaded.kernels ? { kernels: loaded.kernels } : {}),
    });
  }

  /** Records how far a model load has come (null: no load under way). */
  setLoading(loading: { modelId: string; progress: number } | null): void {
    const { loading: previous, ...rest } = this.current;
    if (!loading && !previous) return;
    this.setStatus(loading ? { ...rest, loading } : rest);
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => void this.eventListeners.delete(listener);
  }

  onStatus(listener: (status: EngineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => void this.statusListeners.delete(listener);
  }

  /** Called when the host dies unexpectedly, after pending requests have been failed. */
  onCrash(listener: (reason: string) => void): () => void {
    this.crashListeners.add(listener);
    return () => void this.crashListeners.delete(listener);
  }

  get pid(): number | undefined {
    return this.host?.pid;
  }

  /** Requests sent and not answered yet (the soak test checks this never grows). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Stops the host for good (app quit). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const host = this.host;
    this.host = null;
    const shutDown = shutDownError();
    this.failAll(shutDown);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(shutDown);
    if (host) {
      const exited = new Promise<void>((resolve) => host.onExit(() => resolve()));
      host.kill();
      // The fallback timer must not keep a process that is ending (the CLI) alive for its length.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
    }
  }

  // ---------- internals ----------

  private launch(): void {
    this.restartTimer = null;
    this.isReady = false;
    this.methods = new Set();
    const host = this.options.spawn();
    this.host = host;
    const readyTimer = setTimeout(() => {
      if (this.host === host && !this.isReady) host.kill();
    }, this.options.readyTimeoutMs);
    host.onMessage((raw) => this.host === host && this.receive(raw, readyTimer));
    host.onExit((exit) => {
      clearTimeout(readyTimer);
      if (this.host === host) this.crashed(exit);
    });
  }

  private receive(raw: unknown, readyTimer: NodeJS.Timeout): void {
    const message = parseHostMessage(raw);
    if ("invalid" in message) {
      console.error(`[engine] ignored an invalid message from the host: ${message.invalid}`);
      return;
    }
    if ("event" in message) {
      if (message.event.event === "ready") {
        clearTimeout(readyTimer);
        this.methods = new Set(message.event.methods);
        this.isReady = true;
        const recovered = this.current.state === "restarting";
        this.setStatus({
          state: "ready",
          loadedModelId: null,
          ...(recovered ? { message: "The engine restarted after a crash." } : {}),
        });
        for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
        return;
      }
      for (const listener of this.eventListeners) listener(message.event);
      return;
    }
    const reply = message.reply;
    const entry = this.pending.get(reply.id);
    if (!entry) return; // Timed out or answered already.
    this.pending.delete(reply.id);
    if (entry.timer) clearTimeout(entry.timer);
    if (!reply.ok) {
      const { code, message: text, detail } = reply.error;
      entry.reject(
        code === "not_implemented"
          ? notAvailableYet(FEATURE_NAMES[entry.method] ?? `Engine method "${entry.method}"`)
          : new ChannelError(code, text, detail),
      );
      return;
    }
    const checked = hostMethods[entry.method].result.safeParse(reply.result);
    if (checked.success) entry.resolve(checked.data);
    else
      entry.reject(
        new ChannelError(
          "engine_error",
          `The engine sent an invalid ${entry.method} reply: ${z.prettifyError(checked.error)}`,
        ),
      );
  }

  private crashed(exit: HostExit): void {
    this.host = null;
    this.isReady = false;
    this.methods = new Set();
    if (this.closed) return;
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    const reason = `The engine process stopped unexpectedly (${how}).`;
    this.failAll(new ChannelError("engine_crashed", `${reason} It is being restarted; please try again.`));
    for (const listener of this.crashListeners) listener(reason);

    const now = Date.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.options.crashWindowMs), now];
    if (this.crashTimes.length >= this.options.maxCrashes) {
      this.setStatus({
        state: "crashed",
        loadedModelId: null,
        message: `${reason} It crashed ${this.crashTimes.length} times in a row; restart Exitlane.`,
      });
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(this.crashedError());
      return;
    }
    this.setStatus({ state: "restarting", loadedModelId: null, message: `${reason} Restarting…` });
    const delays = this.options.restartDelaysMs;
    const delay = delays[Math.min(this.crashTimes.length - 1, delays.length - 1)] ?? 0;
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }

  private crashedError(): ChannelError {
    return new ChannelError(
      "engine_crashed",
      this.current.message ?? "The engine crashed; restart Exitlane.",
    );
  }

  private failAll(error: Error): void {
    for (const [id, entry] of this.pending) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(error);
      this.pending.delete(id);
    }
  }

  private setStatus(status: EngineStatus): void {
    this.current = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

function shutDownError(): ChannelError {
  return new ChannelError("engine_stopped", "The engine has been shut down.");
}
