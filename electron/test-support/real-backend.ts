// The whole back end (dispatcher, services, real SQLite) over a fresh user-data folder, with the
// REAL engine host as a child process and, on request, stories260K already in its models folder.
// Shared by the back-end tests and `npm run reliability`.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { EventName, EventOf, ChatSampling } from "../contract.js";
import { createBackend, type Backend, type BackendOptions } from "../services/backend.js";
import type { EngineClientOptions } from "../services/engine-client.js";
import { realHostEntry, spawnTsHost } from "./engine.js";
import { copyStoriesInto, type StoriesForm } from "./stories-package.js";
import { ApiError } from "../../wire/errors.js";

export interface SeenEvent {
  event: EventName;
  payload: unknown;
  /** performance.now() when the back end emitted it. */
  at: number;
}

export interface RealBackend {
  backend: Backend;
  userDataDir: string;
  modelsDir: string;
  /** The stories260K package's id when it was copied in, else null. */
  modelId: string | null;
  /** Every event the back end emitted, in order (unless `record: false`). */
  seen: SeenEvent[];
  /** Dispatches like a transport would; a refusal becomes a rejection carrying `code`. */
  call<T = never>(channel: string, payload: unknown): Promise<T>;
  /** Resolves with the first event (from now on) that matches. */
  next<E extends EventName>(
    event: E,
    match?: (payload: EventOf<E>) => boolean,
    ms?: number,
  ): Promise<EventOf<E>>;
  close(): Promise<void>;
}

export interface RealBackendOptions {
  /** Copy the imported stories260K package into the models folder (default true). */
  stories?: boolean;
  /** Also make it the active model and load it (default true when stories). */
  select?: boolean;
  engine?: Partial<Omit<EngineClientOptions, "spawn">>;
  /** Keep every event in `seen` (default true; the soak turns it off). */
  record?: boolean;
  /** Extra environment for the engine host process. */
  hostEnv?: Record<string, string>;
  /** Which import of stories260K to copy in (stories-package.ts); default the native one. */
  storiesForm?: StoriesForm;
  /** More options for createBackend (a hub endpoint, a secret cipher, a disk-space probe). */
  backend?: Partial<Omit<BackendOptions, "userDataDir" | "engine">>;
  /** Reuse this user-data folder (a restart) instead of a fresh one; it is removed on close all the same. */
  userDataDir?: string;
}

export async function startRealBackend(options: RealBackendOptions = {}): Promise<RealBackend> {
  const { stories = true, record = true } = options;
  const userDataDir = options.userDataDir ?? mkdtempSync(path.join(os.tmpdir(), "exitlane-backend-"));
  const modelsDir = path.join(userDataDir, "models");
  const modelId = stories ? await copyStoriesInto(modelsDir, options.storiesForm) : null;
  const backend = createBackend({
    ...options.backend,
    userDataDir,
    engine: { spawn: spawnTsHost(realHostEntry, options.hostEnv), restartDelaysMs: [50], ...options.engine },
  });
  const seen: SeenEvent[] = [];
  const waiters = new Set<{ event: EventName; match: (p: never) => boolean; resolve(p: unknown): void }>();
  backend.events.subscribe((event, payload) => {
    if (record) seen.push({ event, payload, at: performance.now() });
    for (const w of waiters) {
      if (w.event === event && w.match(payload as never)) {
        waiters.delete(w);
        w.resolve(payload);
      }
    }
  });
  const call = async <T>(channel: string, payload: unknown): Promise<T> => {
    const reply = await backend.dispatch(channel, payload);
    if (!reply.ok) throw ApiError.fromWire(reply.error, channel);
    return reply.result as T;
  };
  const next: RealBackend["next"] = (event, match = () => true, ms = 30_000) =>
    new Promise((resolve, reject) => {
      const waiter = {
        event,
        match: match as (p: never) => boolean,
        resolve: resolve as (p: unknown) => void,
      };
      waiters.add(waiter);
      setTimeout(() => {
        if (waiters.delete(waiter)) reject(new Error(`no ${event} event within ${ms} ms`));
      }, ms).unref();
    });
  const running: RealBackend = {
    backend,
    userDataDir,
    modelsDir,
    modelId,
    seen,
    call,
    next,
    async close() {
      await backend.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  if (modelId && (options.select ?? true)) await call("models.select", { id: modelId });
  return running;
}

/** Sampling for short, reproducible answers. */
/** For a test file: `start()` opens a real back end that is closed after the test it was opened in. */
export function realBackends(): (options?: RealBackendOptions) => Promise<RealBackend> {
  const opened: RealBackend[] = [];
  afterEach(async () => {
    for (const b of opened.splice(0)) await b.close();
  });
  return async (options = {}) => {
    const b = await startRealBackend(options);
    opened.push(b);
    return b;
  };
}

export function sampling(maxTokens: number | null, change: Partial<ChatSampling> = {}): ChatSampling {
  return {
    temperature: 0.8,
    topP: 0.95,
    topK: 40,
    minP: 0,
    repetitionPenalty: 1,
    maxTokens,
    seed: 7,
    ...change,
  };
}

/** Resident memory of a process in KiB, from /proc (Linux); null where there is none. */
export function rssKiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function until(check: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
