// The engine client against the REAL engine host process. The stand-ins are a host that never
// says "ready" and one that never answers (a few lines each): the real host cannot be made to hang
// on purpose.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EngineStatus } from "../contract.js";
import { haveShared, stories } from "../../native-models/test-support/shared-fixtures.js";
import { realHostEntry, spawnTsHost } from "../test-support/engine.js";
import { EngineClient } from "./engine-client.js";
import { forkNodeHost } from "./host-process.js";

const clients: EngineClient[] = [];
function client(extra = {}) {
  const c = new EngineClient({ spawn: spawnTsHost(realHostEntry), restartDelaysMs: [50], ...extra });
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function waitForStatus(c: EngineClient, state: EngineStatus["state"]): Promise<EngineStatus> {
  return new Promise((resolve) => {
    const off = c.onStatus((s) => {
      if (s.state === state) {
        off();
        resolve(s);
      }
    });
  });
}

describe("EngineClient with the real engine host", () => {
  it("answers info from the host process", async () => {
    const c = client();
    const info = await c.request("info", {});
    expect(info.hostPid).toBe(c.pid);
    expect(info.hostPid).not.toBe(process.pid);
    expect(info.cpu.cores).toBe(os.availableParallelism());
    expect(c.status().state).toBe("ready");
  });

  it("knows which methods the real host offers and refuses unknown ones", async () => {
    const c = client();
    await c.start();
    for (const m of [
      "info",
      "importModel",
      "calibrate",
      "load",
      "generate",
      "stop",
      "setKnob",
      "listModels",
    ] as const) {
      expect(c.supports(m)).toBe(true);
    }
    expect(
      await c.request("listModels", { modelsDir: mkdtempSync(path.join(os.tmpdir(), "exitlane-empty-")) }),
    ).toEqual([]);
    await expect(
      c.request("load", {
        modelsDir: "/nonexistent",
        modelId: "nope",
        threads: 1,
        executionProvider: "cpu",
        contextLength: 256,
      }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/no model nope/),
    });
  });

  it.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
    "restarts the host after it is killed, failing the pending request clearly",
    async () => {
      const c = client();
      await c.start();
      const firstPid = c.pid!;
      const statuses: string[] = [];
      c.onStatus((s) => statuses.push(s.state));
      // A real request that is still running when the kill comes: an import (with calibration, seconds).
      const modelsDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-kill-import-"));
      const pending = c.request("importModel", { jobId: "j1", source: stories.gguf, modelsDir });
      await new Promise<void>((resolve) => {
        const off = c.onEvent((e) => {
          if (e.event === "progress") {
            off();
            resolve();
          }
        });
      });
      const ready = waitForStatus(c, "ready");
      process.kill(firstPid, "SIGKILL");
      await expect(pending).rejects.toMatchObject({
        code: "engine_crashed",
        message: expect.stringMatching(/stopped unexpectedly \(signal SIGKILL\).*restarted/),
      });
      const status = await ready;
      expect(statuses).toEqual(["restarting", "ready"]);
      expect(status.message).toMatch(/restarted after a crash/);
      expect(c.pid).not.toBe(firstPid);
      const info = await c.request("info", {});
      expect(info.hostPid).toBe(c.pid);
      rmSync(modelsDir, { recursive: true, force: true });
    },
  );

  it("gives up after repeated crashes and reports crashed", async () => {
    const c = client({ maxCrashes: 2 });
    await c.start();
    const ready = waitForStatus(c, "ready");
    process.kill(c.pid!, "SIGKILL");
    await ready;
    const crashed = waitForStatus(c, "crashed");
    process.kill(c.pid!, "SIGKILL");
    expect((await crashed).message).toMatch(/2 times in a row/);
    await expect(c.request("info", {})).rejects.toMatchObject({ code: "engine_crashed" });
  });

  it("fails a pending request with code engine_crashed when the host dies, and engine_stopped at shutdown", async () => {
    // Not the real host: this stand-in says "ready" and never answers, so the request is surely pending.
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-mute-host-"));
    const mute = path.join(dir, "mute.cjs");
    writeFileSync(
      mute,
      'process.send({ event: "ready", protocol: 1, pid: process.pid, methods: ["info"] });\n' +
        'process.on("message", () => {});\n',
    );
    const c = new EngineClient({ spawn: forkNodeHost(mute), restartDelaysMs: [10] });
    clients.push(c);
    await c.start();
    const sent = async () => {
      while (c.pendingCount === 0) await new Promise((r) => setTimeout(r, 5));
    };
    const pending = c.request("info", {});
    await sent();
    process.kill(c.pid!, "SIGKILL");
    await expect(pending).rejects.toMatchObject({ code: "engine_crashed" });
    await waitForStatus(c, "ready");
    const cutOff = c.request("info", {});
    await sent();
    const stopped = expect(cutOff).rejects.toMatchObject({ code: "engine_stopped" });
    await c.close();
    await stopped;
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts a host that never becomes ready as a crash", async () => {
    // Not the real host: it always says "ready" at once; this stand-in never does.
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-silent-host-"));
    const silent = path.join(dir, "silent.cjs");
    writeFileSync(silent, "setInterval(() => {}, 1000);\n");
    const c = new EngineClient({
      spawn: forkNodeHost(silent),
      restartDelaysMs: [10],
      readyTimeoutMs: 300,
      maxCrashes: 1,
    });
    clients.push(c);
    await expect(c.start()).rejects.toMatchObject({
      code: "engine_crashed",
      message: expect.stringMatching(/SIGKILL/),
    });
    expect(c.status().state).toBe("crashed");
    rmSync(dir, { recursive: true, force: true });
  });
});
