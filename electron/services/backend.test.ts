// The back end end to end through its dispatcher: real SQLite, real engine host processes
// (the real one for info, the scripted fake for generation and import).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EventName } from "../contract.js";
import { fakeHostEntry, realHostEntry, spawnTsHost } from "../test-support/engine.js";
import { createBackend, type Backend } from "./backend.js";

const opened: Array<{ backend: Backend; dir: string }> = [];
afterEach(async () => {
  for (const { backend, dir } of opened.splice(0)) {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function start(entry: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-backend-"));
  const backend = createBackend({
    userDataDir: dir,
    engine: { spawn: spawnTsHost(entry, env), restartDelaysMs: [50] },
  });
  opened.push({ backend, dir });
  const seen: Array<{ event: EventName; payload: unknown }> = [];
  backend.events.subscribe((event, payload) => seen.push({ event, payload }));
  const call = async (channel: string, payload: unknown) => {
    const reply = await backend.dispatch(channel, payload);
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result as never;
  };
  return { backend, dir, seen, call };
}

const until = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("backend with the real engine host", () => {
  it("answers engine.info from the host process", async () => {
    const { call, backend } = start(realHostEntry);
    const info = await call("engine.info", {});
    expect(info).toMatchObject({
      cpu: { cores: os.availableParallelism() },
      hostPid: backend.services.engine.pid,
    });
  });

  it("refuses to answer without a model and to import a missing file, changing nothing", async () => {
    const { call } = start(realHostEntry);
    const chat = await call("chat.create", {});
    await expect(call("chat.send", { conversationId: (chat as { id: string }).id, text: "hi" })).rejects.toMatchObject({
      message: expect.stringMatching(/model/i),
    });
    await expect(call("models.importPath", { path: "/nope.gguf" })).rejects.toMatchObject({
      message: expect.stringMatching(/Cannot import "\/nope.gguf": the file or folder does not exist/),
    });
    expect(await call("chat.get", { id: (chat as { id: string }).id })).toMatchObject({ messages: [] });
    expect(await call("models.list", {})).toEqual([]);
  });

  it("rejects malformed messages with clear errors and no state change", async () => {
    const { call, backend } = start(realHostEntry);
    await call("chat.create", { title: "Keep me" });
    const before = JSON.stringify([await call("chat.list", {}), await call("settings.get", {})]);
    const bad: Array<[unknown, unknown, string]> = [
      ["chat.rename", { id: "x", title: 7 }, "bad_request"],
      ["chat.create", { title: "x", extra: 1 }, "bad_request"],
      ["settings.set", { threads: "many" }, "bad_request"],
      ["settings.set", { modelsDir: "/etc" }, "bad_request"],
      ["settings.set", { executionProvider: "quantum" }, "bad_request"],
      ["chat.delete", {}, "bad_request"],
      ["chat.drop_table", {}, "unknown_channel"],
      ["chat.delete", { id: "missing" }, "ok"],
    ];
    for (const [channel, payload, code] of bad) {
      const reply = await backend.dispatch(channel, payload);
      if (code === "ok") expect(reply).toEqual({ ok: true, result: { deleted: false } });
      else expect(reply).toMatchObject({ ok: false, error: { code } });
    }
    expect(JSON.stringify([await call("chat.list", {}), await call("settings.get", {})])).toBe(before);
  });

  it("offers the folder dialogs only where they exist", async () => {
    const { call } = start(realHostEntry);
    await expect(call("models.importDialog", { folder: false })).rejects.toMatchObject({
      code: "bad_request",
    });
    await expect(call("settings.chooseModelsDir", {})).rejects.toMatchObject({ code: "bad_request" });
  });
});

describe("backend with a scripted engine host", () => {
  it("streams an answer into SQLite and events, then stops one on request", async () => {
    const { call, seen } = start(fakeHostEntry, { FAKE_TOKEN_MS: "2" });
    await call("settings.set", { activeModelId: "preloaded" });
    const chat = (await call("chat.create", {})) as { id: string; sampling: object };
    await call("chat.update", { id: chat.id, sampling: { ...chat.sampling, maxTokens: 20 } });
    const sent = (await call("chat.send", { conversationId: chat.id, text: "Hello there" })) as {
      assistantMessageId: string;
    };
    await until(() => seen.some((e) => e.event === "generation.done"));
    const tokens = seen.filter((e) => e.event === "generation.token");
    expect(tokens).toHaveLength(20);
    const { messages } = (await call("chat.get", { id: chat.id })) as {
      messages: Array<{ content: string; exitLayers: number[]; stats: { stopReason: string } }>;
    };
    expect(messages[1]).toMatchObject({
      content: Array.from({ length: 20 }, (_, i) => `t${i} `).join(""),
      stats: { stopReason: "max_tokens" },
    });
    expect(messages[1].exitLayers.slice(0, 5)).toEqual([0, 1, 2, 3, 0]);
    expect(sent.assistantMessageId).toBeTruthy();

    await call("chat.update", { id: chat.id, sampling: { ...chat.sampling, maxTokens: 30_000 } });
    await call("chat.send", { conversationId: chat.id, text: "Go on" });
    await expect(call("chat.send", { conversationId: chat.id, text: "again" })).rejects.toMatchObject({
      code: "conflict",
    });
    await until(() => seen.filter((e) => e.event === "generation.token").length > 25);
    expect(await call("chat.stop", { conversationId: chat.id })).toEqual({ stopped: true });
    await until(() => seen.filter((e) => e.event === "generation.done").length === 2);
    const last = (await call("chat.get", { id: chat.id })) as {
      messages: Array<{ stats: { stopReason: string } }>;
    };
    expect(last.messages.at(-1)?.stats.stopReason).toBe("stopped");
  });

  it("keeps every token shown when the engine dies mid-answer, restarts it, and the next message works", async () => {
    const { call, seen, backend } = start(fakeHostEntry, { FAKE_TOKEN_MS: "5" });
    await call("settings.set", { activeModelId: "preloaded" });
    const chat = (await call("chat.create", {})) as { id: string };
    const firstPid = backend.services.engine.pid;
    await call("chat.send", { conversationId: chat.id, text: "crash please" });
    await until(() => seen.some((e) => e.event === "generation.done"));
    const shown = seen.filter((e) => e.event === "generation.token").length;
    const done = seen.find((e) => e.event === "generation.done")!.payload as {
      error: string;
      stats: { stopReason: string };
    };
    expect(done.stats.stopReason).toBe("interrupted");
    expect(done.error).toMatch(/stopped unexpectedly/);
    const statuses = seen
      .filter((e) => e.event === "engine.status")
      .map((e) => (e.payload as { state: string }).state);
    expect(statuses).toContain("restarting");
    const stored = (await call("chat.get", { id: chat.id })) as { messages: Array<{ tokenTexts: string[] }> };
    expect(stored.messages[1].tokenTexts).toHaveLength(shown);

    await until(() => backend.services.engine.status().state === "ready");
    expect(backend.services.engine.pid).not.toBe(firstPid);
    await call("chat.update", {
      id: chat.id,
      sampling: { temperature: 0, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, maxTokens: 3, seed: 1 },
    });
    await call("chat.send", { conversationId: chat.id, text: "still there?" });
    await until(() => seen.filter((e) => e.event === "generation.done").length === 2);
    const after = (await call("chat.get", { id: chat.id })) as { messages: Array<{ content: string }> };
    expect(after.messages.map((m) => m.content)).toEqual([
      "crash please",
      expect.any(String),
      "still there?",
      "t0 t1 t2 ",
    ]);
  });

  it("runs an import job through its stages, reports failures plainly and supports cancel", async () => {
    const { call, seen, dir } = start(fakeHostEntry, { FAKE_TOKEN_MS: "2" });
    const good = path.join(dir, "tiny.gguf");
    const corrupt = path.join(dir, "corrupt.gguf");
    writeFileSync(good, "GGUF");
    writeFileSync(corrupt, "nope");
    const { jobId } = (await call("models.importPath", { path: good })) as { jobId: string };
    await until(() => seen.some((e) => e.event === "models.changed"));
    const stages = seen
      .filter((e) => e.event === "import.progress" && (e.payload as { jobId: string }).jobId === jobId)
      .map((e) => (e.payload as { stage: string }).stage);
    expect(new Set(stages)).toEqual(new Set(["read", "convert", "quantize", "write"]));
    expect(await call("models.list", {})).toMatchObject([{ id: "model-1", name: "tiny.gguf" }]);

    const failed = (await call("models.importPath", { path: corrupt })) as { jobId: string };
    await until(() => (JSON.stringify(seen.at(-1)?.payload) ?? "").includes('"failed"'));
    expect((await call("models.jobs", {})) as unknown[]).toContainEqual(
      expect.objectContaining({
        jobId: failed.jobId,
        state: "failed",
        error: expect.stringMatching(/Not a GGUF file/),
      }),
    );
    expect(await call("models.list", {})).toHaveLength(1);

    const slow = (await call("models.importPath", { path: good })) as { jobId: string };
    expect(await call("models.cancelImport", { jobId: slow.jobId })).toEqual({ cancelled: true });
    const jobs = (await call("models.jobs", {})) as Array<{ jobId: string; state: string }>;
    expect(jobs.find((j) => j.jobId === slow.jobId)?.state).toBe("cancelled");
    await expect(call("models.importPath", { path: path.join(dir, "absent.gguf") })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("selects, renames and deletes models through the engine", async () => {
    const { call, dir, seen } = start(fakeHostEntry, { FAKE_TOKEN_MS: "1" });
    writeFileSync(path.join(dir, "m.gguf"), "GGUF");
    await call("models.importPath", { path: path.join(dir, "m.gguf") });
    await until(() => seen.some((e) => e.event === "models.changed"));
    expect(await call("models.select", { id: "model-1" })).toMatchObject({
      state: "ready",
      loadedModelId: "model-1",
    });
    expect(await call("settings.get", {})).toMatchObject({ activeModelId: "model-1" });
    expect(await call("models.rename", { id: "model-1", name: "Tiny" })).toMatchObject({ name: "Tiny" });
    expect(await call("models.delete", { id: "model-1" })).toEqual({ deleted: true });
    expect(await call("settings.get", {})).toMatchObject({ activeModelId: null });
    expect(await call("engine.status", {})).toMatchObject({ loadedModelId: null });
    await expect(call("models.select", { id: "ghost" })).rejects.toMatchObject({ code: "not_found" });
  });
});
