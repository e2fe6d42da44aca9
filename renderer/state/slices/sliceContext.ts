// What every slice is built with: the API, zustand's set/get, the store's options, and the few
// helpers and pieces of state that more than one slice needs.
import type { StoreApi } from "zustand/vanilla";
import type { ExitlaneApi } from "../../../electron/contract";
import { errorMessage } from "../../api/wsApi";
import { throttledFrameScheduler, type FrameBatcher, type Scheduler } from "../frameBatcher";
import type { TokenEvent } from "../streamProcessor";
import type { AppState } from "./appState";

export interface StoreOptions {
  scheduler?: Scheduler;
  /** How long after Stop an answer that the engine never ended is closed locally (ms). */
  stopGraceMs?: number;
  now?: () => number;
}

export interface SliceContext {
  api: ExitlaneApi;
  set: StoreApi<AppState>["setState"];
  get: () => AppState;
  scheduler: Scheduler;
  stopGraceMs: number;
  now: () => number;
  /** The token batcher, created by init (tokens reach the store at most ten times a second). */
  tokens: FrameBatcher<TokenEvent> | null;
  /** A toast "<what>: <the error in plain words>". */
  fail(what: string, err: unknown): void;
  /** The model the chat talks to: the chosen one, or the one the engine has loaded. */
  activeModelId(): string | null;
  /** Ids for things that exist only here (optimistic messages, uploads). */
  nextLocalId(): number;
  /** Registers clean-up for dispose (timers a slice owns). */
  onDispose(cleanup: () => void): void;
  disposeAll(): void;
}

export function createSliceContext(
  api: ExitlaneApi,
  set: SliceContext["set"],
  get: SliceContext["get"],
  options: StoreOptions,
): SliceContext {
  let localId = 0;
  const cleanups: (() => void)[] = [];
  return {
    api,
    set,
    get,
    scheduler: options.scheduler ?? throttledFrameScheduler(),
    stopGraceMs: options.stopGraceMs ?? 2000,
    now: options.now ?? (() => performance.now()),
    tokens: null,
    fail: (what, err) => get().toast("error", `${what}: ${errorMessage(err)}`),
    activeModelId: () => get().settings?.activeModelId ?? get().engineStatus?.loadedModelId ?? null,
    nextLocalId: () => ++localId,
    onDispose: (cleanup) => void cleanups.push(cleanup),
    disposeAll: () => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    },
  };
}
