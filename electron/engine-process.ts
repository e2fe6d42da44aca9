// In the app, the engine host runs as an Electron utilityProcess: a Node process of its own,
// so inference never blocks the window or the main process.
import type { UtilityProcess } from "electron";
import type { HostExit, HostProcess, SpawnHost } from "./services/host-process.js";
import { ENGINE_PROCESS_FLAGS } from "../native-models/runtime/process-flags.js";

type Fork = (
  modulePath: string,
  args?: string[],
  options?: { serviceName?: string; stdio?: "inherit" | "pipe" | "ignore"; execArgv?: string[] },
) => UtilityProcess;

export function forkUtilityHost(fork: Fork, entry: string): SpawnHost {
  return (): HostProcess => {
    const child = fork(entry, [], {
      serviceName: "Exitlane engine",
      stdio: "inherit",
      execArgv: [...ENGINE_PROCESS_FLAGS],
    });
    const exitListeners: Array<(exit: HostExit) => void> = [];
    let exited = false;
    child.once("exit", (code) => {
      exited = true;
      // utilityProcess reports no signal; a kill shows as a non-zero code.
      for (const listener of exitListeners) listener({ code, signal: null });
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => void child.on("message", listener),
      onExit: (listener) => void exitListeners.push(listener),
      kill: () => void child.kill(),
    };
  };
}
