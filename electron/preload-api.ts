// The object the preload exposes as `window.exitlane`: the contract's ExitlaneApi over IPC. Its
// requests reject with ApiError (wire/errors.ts), as the WebSocket client's do.
// Kept apart from preload.ts so it can be tested without Electron.
import {
  channels,
  ImportOptions,
  eventNames,
  type Channel,
  type EventName,
  type ExitlaneApi,
  type ReplyEnvelope,
  type WireEvent,
  settleApi,
} from "./contract.js";
import { IPC_EVENT, IPC_REQUEST } from "./ipc-channels.js";
import { ApiError, rejectWithData } from "../wire/errors.js";

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, message: unknown) => void): void;
}

/**
 * Channels page script may not call directly: a path must come from a file the user dropped or
 * picked (importFiles below), never from a string the page made up.
 */
const PRELOAD_ONLY = new Set<Channel>(["models.importPath"]);

export function buildApi(ipc: IpcRendererLike, getPathForFile: (file: File) => string): ExitlaneApi {
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  // Main sends the events of one tick together, in order (event-batches.ts).
  ipc.on(IPC_EVENT, (_event, message) => {
    for (const { event, payload } of Array.isArray(message) ? (message as WireEvent[]) : []) {
      for (const listener of listeners.get(event) ?? []) {
        try {
          (listener as (p: unknown) => void)(payload);
        } catch (error) {
          console.error(`[exitlane] listener for ${event} failed`, error);
        }
      }
    }
  });

  async function call(channel: Channel, payload: unknown): Promise<never> {
    const reply = (await ipc.invoke(IPC_REQUEST, channel, payload)) as ReplyEnvelope;
    if (!reply.ok) throw ApiError.fromWire(reply.error, channel);
    return reply.result as never;
  }

  return {
    transport: "ipc",
    request(channel, payload) {
      if (!channels.includes(channel))
        return Promise.reject(
          new ApiError("unknown_channel", `Unknown channel ${JSON.stringify(channel)}.`, { channel }),
        );
      if (PRELOAD_ONLY.has(channel))
        return Promise.reject(
          new ApiError("bad_request", `${channel} is not available to the page; use importFiles.`, {
            channel,
          }),
        );
      return call(channel, payload);
    },
    on(event, listener) {
      if (!eventNames.includes(event)) throw new Error(`Unknown event ${JSON.stringify(event)}.`);
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const stored = listener as (payload: never) => void;
      set.add(stored);
      return () => void set.delete(stored);
    },
    async importFiles(files, options = {}) {
      const paths = [...files].map((file) => getPathForFile(file));
      if (paths.length === 0) throw new ApiError("bad_request", "No files to import.");
      // Files made by page script (new File([...])) have no path on disk.
      if (paths.some((p) => !p))
        throw new ApiError(
          "bad_request",
          "Only files dropped on the window or chosen in a dialog can be imported.",
        );
      // Only the import options: the path is always the one resolved from the files above.
      const checked = ImportOptions.safeParse(options);
      if (!checked.success) throw new ApiError("bad_request", "Bad import options.");
      return call("models.importPath", { ...checked.data, path: commonSource(paths) });
    },
  };
}

/** One file imports itself; several files of one folder import that folder. */
export function commonSource(paths: string[]): string {
  if (paths.length === 1) return paths[0];
  const parent = (p: string) => p.replace(/[\\/][^\\/]*$/, "");
  const parents = new Set(paths.map(parent));
  if (parents.size !== 1)
    throw new ApiError("bad_request", "Drop the files of one model folder at a time (or the folder itself).");
  return [...parents][0];
}

/**
 * The API as it can cross Electron's context bridge, which copies an Error's message only: its
 * rejections travel as data, and the page's createApi turns them back into ApiErrors.
 */
export function forContextBridge(api: ExitlaneApi): ExitlaneApi {
  return settleApi(api, rejectWithData);
}
