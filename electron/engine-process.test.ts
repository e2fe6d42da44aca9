import { describe, expect, it } from "vitest";
import { ENGINE_PROCESS_FLAGS } from "../native-models/runtime/process-flags";
import { forkUtilityHost } from "./engine-process";

describe("forkUtilityHost", () => {
  it("starts Electron's utility process with the engine's Node flags", () => {
    const calls: unknown[] = [];
    const fakeChild = {
      pid: 1,
      once: () => fakeChild,
      on: () => fakeChild,
      postMessage: () => {},
      kill: () => true,
    };
    const fork = (modulePath: string, args?: string[], options?: object) => {
      calls.push({ modulePath, args, options });
      return fakeChild as unknown as Electron.UtilityProcess;
    };
    forkUtilityHost(fork, "/app/dist/engine/host.cjs")();
    expect(calls).toEqual([
      {
        modulePath: "/app/dist/engine/host.cjs",
        args: [],
        options: { serviceName: "Exitlane engine", stdio: "inherit", execArgv: [...ENGINE_PROCESS_FLAGS] },
      },
    ]);
  });
});
