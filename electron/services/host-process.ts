// How the engine client reaches an engine host process, whatever started it: Electron's
// utilityProcess in the app (see electron/engine-process.ts) or child_process.fork under plain Node.
import { fork } from "node:child_process";

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
  /** Node flags for the host, e.g. ["--import", "tsx"] to run the TypeScript entry in tests. */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Plain Node: the host is a child process with an IPC channel (JSON messages). */
export function forkNodeHost(entry: string, options: NodeHostOptions = {}): SpawnHost {
  return () => {
    const child = fork(entry, [], {
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "json",
    });
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
