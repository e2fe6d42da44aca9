import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ENGINE_PROCESS_FLAGS } from "../../native-models/runtime/process-flags";
import { forkNodeHost } from "./host-process";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("forkNodeHost", () => {
  it("starts the host with the engine's Node flags, before the caller's own", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-flags-"));
    dirs.push(dir);
    const entry = path.join(dir, "flags.cjs");
    writeFileSync(entry, "process.send({ execArgv: process.execArgv }, () => process.exit(0));\n");
    const host = forkNodeHost(entry, { execArgv: ["--no-warnings"] })();
    const got = await new Promise<unknown>((resolve) => host.onMessage(resolve));
    expect(got).toEqual({ execArgv: [...ENGINE_PROCESS_FLAGS, "--no-warnings"] });
  });
});
