// How the engine client reaches an engine host process, whatever started it: Electron's
// utilityProcess in the app (see electron/engine-process.ts) or child_process.fork under plain Node.
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ENGINE_PROCESS_FLAGS } from "../../native-models/runtime/process-flags.js";

export interface HostExit {
  code: number | null;
  signal: string | null;
}

export interface HostProcess {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once, when the process has ended (or failed to start). */
  onExit(listener: (exit: HostExit) => void): void;
  kill(): void;
}

export type SpawnHost = () => HostProcess;

export interface NodeHostOptions {
  /** Node flags for the host beside the engine's own, e.g. ["--import", "tsx"] to run the TypeScript entry in tests. */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Receives the host's stderr instead of passing it through (tests check that a start is quiet). */
  onStderr?: (chunk: string) => void;
}

/** Plain Node: the host is a child process with an IPC channel (JSON messages). */
export function forkNodeHost(entry: string, options: NodeHostOptions = {}): SpawnHost {
  return () => {
    const child = fork(entry, [], {
      execArgv: [...ENGINE_PROCESS_FLAGS, ...(options.execArgv ?? [])],
      env: options.env ?? process.env,
      stdio: ["ignore", "inherit", options.onStderr ? "pipe" : "inherit", "ipc"],
      serialization: "json",
    });
    if (options.onStderr) child.stderr?.setEncoding("utf8").on("data", options.onStderr);
    let exited = false;
    const exitListeners: Array<(exit: HostExit) => void> = [];
    const finish = (exit: HostExit) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(exit);
    };
    child.once("exit", (code, signal) => finish({ code, signal }));
    child.once("error", () => finish({ code: null, signal: null }));
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => {
        if (child.connected) child.send(message as object);
      },
      onMessage: (listener) => void child.on("message", listener),
      onExit: (listener) => void exitListeners.push(listener),
      kill: () => void child.kill("SIGKILL"),
    };
  };
}

/**
 * The engine host a back end module at `moduleUrl` starts: beside a bundle in dist/<bundle>/, the
 * built dist/engine/host.cjs (what the app and an installed build run); from the TypeScript
 * source, the host's source through tsx.
 */
export function engineHostEntry(moduleUrl: string): { entry: string; execArgv: string[] } {
  const file = fileURLToPath(moduleUrl);
  if (/\.[cm]?js$/.test(file))
    return { entry: path.join(path.dirname(file), "..", "engine", "host.cjs"), execArgv: [] };
  const root = path.resolve(path.dirname(file), "..", "..");
  return { entry: path.join(root, "native-models", "host", "main.ts"), execArgv: ["--import", "tsx"] };
}
