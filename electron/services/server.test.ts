// The local server as the app switches it: settings.server starts, stops and moves it; its state
// arrives as server.status events; a new key shuts the old one out; a taken port is reported.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ServerStatus, Settings } from "../contract.js";
import { realBackends, until } from "../test-support/real-backend.js";
import { freePort } from "../test-support/free-port.js";
import { realHostEntry, spawnTsHost } from "../test-support/engine.js";
import { createBackend } from "./backend.js";

const start = realBackends();

const models = (status: ServerStatus, key = status.apiKey) =>
  fetch(`${status.url}/models`, { headers: { Authorization: `Bearer ${key}` } });

describe("LocalServer", () => {
  it("is off by default, starts and stops with settings.server, and reports each change", async () => {
    const b = await start({ stories: false });
    expect(await b.call<ServerStatus>("server.status", {})).toEqual({
      running: false,
      url: null,
      apiKey: null,
    });
    const port = await freePort();
    const started = b.next("server.status", (s) => s.running);
    const settings = await b.call<Settings>("settings.set", { server: { enabled: true, port } });
    expect(settings.server).toEqual({ enabled: true, port });
    const status = await started;
    expect(status).toMatchObject({ running: true, url: `http://127.0.0.1:${port}/v1` });
    expect((await models(status)).status).toBe(200);
    // The key lives in the SecretStore, never in the settings file.
    expect(JSON.stringify(settings)).not.toContain(status.apiKey);
    expect(b.backend.services.secrets.get("serverApiKey")).toBe(status.apiKey);

    const moved = await freePort();
    await b.call("settings.set", { server: { enabled: true, port: moved } });
    const now = await b.call<ServerStatus>("server.status", {});
    expect(now.url).toBe(`http://127.0.0.1:${moved}/v1`);
    expect(now.apiKey).toBe(status.apiKey); // The key stays across restarts of the server.
    await expect(models(status)).rejects.toThrow(); // Nothing listens on the old port.

    const stopped = b.next("server.status", (s) => !s.running);
    await b.call("settings.set", { server: { enabled: false, port: moved } });
    expect(await stopped).toEqual({ running: false, url: null, apiKey: null });
    await expect(models(now)).rejects.toThrow();
  });

  it("rotates the key: the old one is refused from the next request on", async () => {
    const b = await start({ stories: false });
    await b.call("settings.set", { server: { enabled: true, port: await freePort() } });
    const before = await b.call<ServerStatus>("server.status", {});
    const after = await b.call<ServerStatus>("server.newKey", {});
    expect(after.apiKey).not.toBe(before.apiKey);
    expect(after.apiKey).toMatch(/^sk-exitlane-/);
    expect((await models(before)).status).toBe(401);
    expect((await models(after)).status).toBe(200);
  });

  it("reports a taken port instead of failing the settings change", async () => {
    const b = await start({ stories: false });
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      await b.call("settings.set", { server: { enabled: true, port } });
      expect(await b.call<ServerStatus>("server.status", {})).toEqual({
        running: false,
        url: null,
        apiKey: null,
        error: `Port ${port} is in use; choose another port`,
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    const free = await freePort();
    await b.call("settings.set", { server: { enabled: true, port: free } });
    expect(await b.call<ServerStatus>("server.status", {})).toMatchObject({ running: true });
  });

  it("starts with the back end when it was left on, and closes with it", async () => {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-server-"));
    const port = await freePort();
    writeFileSync(
      path.join(userDataDir, "settings.json"),
      JSON.stringify({ server: { enabled: true, port } }),
    );
    const backend = createBackend({ userDataDir, engine: { spawn: spawnTsHost(realHostEntry) } });
    try {
      const { server } = backend.services;
      await until(() => server.status().running, 10_000, "the server to start");
      const status = server.status();
      expect(status.url).toBe(`http://127.0.0.1:${port}/v1`);
      expect((await models(status)).status).toBe(200);
      await backend.close();
      await expect(models(status)).rejects.toThrow();
    } finally {
      await backend.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
