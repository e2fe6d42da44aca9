// The back end end to end through its dispatcher: real SQLite and the REAL engine host process,
// with stories260K (imported once through the real host, see test-support/stories-package.ts).
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Conversation, EventOf, Message } from "../contract.js";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { median, realBackends, sampling, until, type RealBackend } from "../test-support/real-backend.js";
import { storiesPackage } from "../test-support/stories-package.js";

const start = realBackends();

type Done = EventOf<"generation.done">;
type Token = EventOf<"generation.token">;

describe("backend with the real engine host", () => {
  it("answers engine.info from the host process", async () => {
    const { call, backend } = await start({ stories: false });
    const info = await call("engine.info", {});
    expect(info).toMatchObject({
      cpu: { cores: os.availableParallelism() },
      hostPid: backend.services.engine.pid,
    });
  });

  it("reports the engine host's memory and CPU use (engine.usage)", async () => {
    const { call, backend } = await start({ stories: false });
    const first = await call<{ pid: number; rssBytes: number; cpuPercent: number }>("engine.usage", {});
    expect(first.pid).toBe(backend.services.engine.pid);
    // A Node process with onnxruntime loaded holds tens of megabytes, and less than the machine has.
    expect(first.rssBytes).toBeGreaterThan(20 * 2 ** 20);
    expect(first.rssBytes).toBeLessThan(os.totalmem());
    expect(first.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.cpuPercent).toBeLessThanOrEqual(100);
  });

  it("refuses to answer without a model and to import a missing file, changing nothing", async () => {
    const { call } = await start({ stories: false });
    const chat = await call<Conversation>("chat.create", {});
    await expect(call("chat.send", { conversationId: chat.id, text: "hi" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/No model is selected/),
    });
    await expect(call("models.importPath", { path: "/nope.gguf" })).rejects.toMatchObject({
      message: expect.stringMatching(/Cannot import "\/nope.gguf": the file or folder does not exist/),
    });
    expect(await call("chat.get", { id: chat.id })).toMatchObject({ messages: [] });
    expect(await call("models.list", {})).toEqual([]);
  });

  it("rejects malformed messages with clear errors and no state change", async () => {
    const { call, backend } = await start({ stories: false });
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
    const { call } = await start({ stories: false });
    await expect(call("models.importDialog", { folder: false })).rejects.toMatchObject({
      code: "bad_request",
    });
    await expect(call("settings.chooseModelsDir", {})).rejects.toMatchObject({ code: "bad_request" });
  });
});

const shared = haveShared("models/stories260K/gguf/stories260K-f32.gguf");

describe.skipIf(!shared)("backend with stories260K on the real engine host", () => {
  beforeAll(async () => {
    await storiesPackage();
  }, 180_000);

  /** A conversation with these sampling settings. */
  async function chatWith(b: RealBackend, maxTokens: number | null, change = {}) {
    const chat = await b.call<Conversation>("chat.create", {});
    await b.call("chat.update", { id: chat.id, sampling: sampling(maxTokens, change) });
    return chat;
  }
  const tokensOf = (b: RealBackend, messageId: string) =>
    b.seen
      .filter((e) => e.event === "generation.token" && (e.payload as Token).messageId === messageId)
      .map((e) => e.payload as Token);
  const messages = async (b: RealBackend, id: string) =>
    (await b.call<{ messages: Message[] }>("chat.get", { id })).messages;

  it("streams an answer token by token, with exit layers, into events and SQLite", async () => {
    const b = await start();
    const chat = await chatWith(b, 24, { temperature: 0 });
    const done = b.next("generation.done");
    const sent = await b.call<{ userMessage: Message; assistantMessageId: string }>("chat.send", {
      conversationId: chat.id,
      text: "Once upon a time",
    });
    expect(sent.userMessage).toMatchObject({ role: "user", content: "Once upon a time" });
    // The reply names the chat after its first message, for the list to show at once.
    expect(sent).toMatchObject({ conversation: { id: chat.id, title: "Once upon a time" } });
    const { stats } = await done;
    const tokens = tokensOf(b, sent.assistantMessageId);
    expect(stats).toMatchObject({ tokens: tokens.length, layers: 5 });
    expect(["max_tokens", "eos"]).toContain(stats.stopReason);
    if (stats.stopReason === "max_tokens") expect(tokens).toHaveLength(24);
    expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
    for (const t of tokens) {
      expect(t.exitLayer).toBeGreaterThanOrEqual(1);
      expect(t.exitLayer).toBeLessThanOrEqual(5);
    }
    const [user, answer] = await messages(b, chat.id);
    expect(user.content).toBe("Once upon a time");
    expect(answer).toMatchObject({
      role: "assistant",
      content: tokens.map((t) => t.text).join(""),
      tokenTexts: tokens.map((t) => t.text),
      exitLayers: tokens.map((t) => t.exitLayer),
      modelId: b.modelId,
      stats: { stopReason: stats.stopReason, tokens: tokens.length },
    });
    expect(answer.content.length).toBeGreaterThan(0);
    // The same text again gives the same greedy answer at full depth (knob 0: with early exit on,
    // the exit schedule adapts to the tokens before, so answers may differ where exits misfire).
    await b.call("generation.setKnob", { value: 0 });
    const reference = await chatWith(b, 24, { temperature: 0 });
    const third = b.next("generation.done");
    await b.call("chat.send", { conversationId: reference.id, text: "Once upon a time" });
    await third;
    const fullDepth = (await messages(b, reference.id))[1];
    expect(fullDepth.exitLayers.every((l) => l === 5)).toBe(true);
    const again = await chatWith(b, 24, { temperature: 0 });
    const second = b.next("generation.done");
    await b.call("chat.send", { conversationId: again.id, text: "Once upon a time" });
    await second;
    expect((await messages(b, again.id))[1].content).toBe(fullDepth.content);
    expect(b.backend.services.conversations.integrityCheck()).toBe("ok");
  });

  it("leaves a new chat's answer length automatic: a quarter of the context, so the prompt keeps room", async () => {
    const b = await start();
    const fresh = await b.call<Conversation>("chat.create", {});
    expect(fresh.sampling.maxTokens).toBeNull();
    // stories260K has a 512-token context: an automatic answer stops at 128 tokens.
    const chat = await chatWith(b, null, { temperature: 0, seed: 7 });
    const done = b.next("generation.done");
    const sent = await b.call<{ assistantMessageId: string }>("chat.send", {
      conversationId: chat.id,
      text: "Once upon a time",
    });
    const { stats } = await done;
    expect(stats.tokens).toBeLessThanOrEqual(128);
    if (stats.stopReason !== "eos") expect(stats).toMatchObject({ stopReason: "max_tokens", tokens: 128 });
    expect(tokensOf(b, sent.assistantMessageId)).toHaveLength(stats.tokens);
    // A number the user chose is kept and used as is.
    const explicit = await chatWith(b, 200, { temperature: 0, seed: 7 });
    expect(
      (await b.call<{ conversation: Conversation }>("chat.get", { id: explicit.id })).conversation.sampling
        .maxTokens,
    ).toBe(200);
  });

  it("refuses a second answer while one is being written, in this or another conversation", async () => {
    const b = await start();
    const one = await chatWith(b, 400);
    const other = await chatWith(b, 8);
    const done = b.next("generation.done");
    await b.call("chat.send", { conversationId: one.id, text: "Tell me a story" });
    const before = await messages(b, other.id);
    await expect(b.call("chat.send", { conversationId: one.id, text: "again" })).rejects.toMatchObject({
      code: "conflict",
    });
    await expect(b.call("chat.regenerate", { conversationId: one.id })).rejects.toMatchObject({
      code: "conflict",
    });
    // The engine writes one answer at a time: another conversation is refused up front, unchanged.
    await expect(b.call("chat.send", { conversationId: other.id, text: "Hello" })).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/another conversation/),
    });
    expect(await messages(b, other.id)).toEqual(before);
    await b.call("chat.stop", { conversationId: one.id });
    await done;
    const later = b.next("generation.done");
    await b.call("chat.send", { conversationId: other.id, text: "Hello" });
    expect((await later).stats.stopReason).not.toBe("error");
  });

  // The native kernels write stories260K's whole 480-token answer in about 50 ms, before a stop
  // could arrive; onnxruntime's layers take about ten times longer, so the answer is still running.
  // The package too: a one-copy import holds only the native form, which this host cannot run.
  const slowHost = { hostEnv: { EXITLANE_NATIVE: "off" }, storiesForm: "onnx" as const };

  it("stops an answer within 200 ms of chat.stop (median of 5)", async () => {
    const b = await start(slowHost);
    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      const chat = await chatWith(b, 480, { seed: round });
      const { assistantMessageId } = await b.call<{ assistantMessageId: string }>("chat.send", {
        conversationId: chat.id,
        text: "Tell me a long story",
      });
      await until(() => tokensOf(b, assistantMessageId).length >= 5, 10_000, "five tokens");
      const done = b.next("generation.done", (d) => d.messageId === assistantMessageId);
      const t0 = performance.now();
      expect(await b.call("chat.stop", { conversationId: chat.id })).toEqual({ stopped: true });
      const { stats } = await done;
      const doneAt = b.seen.find(
        (e) => e.event === "generation.done" && (e.payload as Done).messageId === assistantMessageId,
      )!.at;
      expect(stats.stopReason).toBe("stopped");
      latencies.push(doneAt - t0);
      const stored = (await messages(b, chat.id))[1];
      expect(stored.tokenTexts).toEqual(tokensOf(b, assistantMessageId).map((t) => t.text));
      expect(stored.stats?.stopReason).toBe("stopped");
    }
    console.log(
      `chat.stop → generation.done (ms): ${latencies.map((l) => l.toFixed(1)).join(", ")}; median ${median(latencies).toFixed(1)}`,
    );
    // A stop right behind the send (the engine is still reading the prompt) is a stop, not an error.
    for (let round = 0; round < 3; round++) {
      const chat = await chatWith(b, 480);
      const done = b.next("generation.done");
      await b.call("chat.send", { conversationId: chat.id, text: "Stop me at once" });
      await b.call("chat.stop", { conversationId: chat.id });
      const { stats, error } = await done;
      expect(error).toBeUndefined();
      expect(stats.stopReason).toBe("stopped");
    }
    expect(median(latencies)).toBeLessThan(200);
    expect(await b.call("chat.stop", { conversationId: (await chatWith(b, 1)).id })).toEqual({
      stopped: false,
    });
  });

  it("regenerates the last answer, and edits a message to answer again from there", async () => {
    const b = await start();
    const chat = await chatWith(b, 12);
    let done = b.next("generation.done");
    const { userMessage } = await b.call<{ userMessage: Message }>("chat.send", {
      conversationId: chat.id,
      text: "The cat",
    });
    await done;
    done = b.next("generation.done");
    await b.call("chat.send", { conversationId: chat.id, text: "Lily and Ben" });
    await done;
    const first = await messages(b, chat.id);
    expect(first.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);

    await b.call("chat.update", { id: chat.id, sampling: sampling(12, { seed: 99 }) });
    done = b.next("generation.done");
    const regenerated = await b.call<{ assistantMessageId: string }>("chat.regenerate", {
      conversationId: chat.id,
    });
    await done;
    const second = await messages(b, chat.id);
    expect(second).toHaveLength(4);
    expect(second.slice(0, 3)).toEqual(first.slice(0, 3));
    expect(second[3].id).toBe(regenerated.assistantMessageId);
    expect(second[3].id).not.toBe(first[3].id);
    expect(second[3].content).toBe(
      tokensOf(b, regenerated.assistantMessageId)
        .map((t) => t.text)
        .join(""),
    );
    // The answer before stays reachable as a version, and either can be shown.
    expect(second[3].versions).toEqual([first[3].id, second[3].id]);
    const older = await b.call<{ messages: Message[] }>("chat.showVersion", {
      conversationId: chat.id,
      messageId: first[3].id,
    });
    expect(older.messages[3]).toMatchObject({ ...first[3], versions: [first[3].id, second[3].id] });
    expect((await messages(b, chat.id))[3].id).toBe(first[3].id);

    done = b.next("generation.done");
    const edited = await b.call<{ userMessage: Message; assistantMessageId: string }>("chat.edit", {
      conversationId: chat.id,
      messageId: userMessage.id,
      text: "Tom had a red ball",
    });
    await done;
    const third = await messages(b, chat.id);
    expect(third.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(third[0]).toMatchObject({ id: userMessage.id, content: "Tom had a red ball" });
    expect(third[1]).toMatchObject({ id: edited.assistantMessageId, stats: { tokens: expect.any(Number) } });
    expect(third[1].stats!.tokens).toBeGreaterThan(0);
    // Editing drops the old answer with its versions; regenerating the new one starts its own.
    expect(third[1].versions).toBeUndefined();
    done = b.next("generation.done");
    const again = await b.call<{ assistantMessageId: string }>("chat.regenerate", {
      conversationId: chat.id,
    });
    await done;
    expect((await messages(b, chat.id))[1].versions).toEqual([
      edited.assistantMessageId,
      again.assistantMessageId,
    ]);
  });

  it("applies the speed/accuracy knob from the next token, also mid-answer", async () => {
    const b = await start(slowHost);
    const model = (await b.call<Array<{ calibration: { status: string } }>>("models.list", {}))[0];
    expect(model.calibration.status).toBe("calibrated");
    await b.call("generation.setKnob", { value: 0 });
    const chat = await chatWith(b, 400, { temperature: 0 });
    const done = b.next("generation.done");
    const { assistantMessageId } = await b.call<{ assistantMessageId: string }>("chat.send", {
      conversationId: chat.id,
      text: "Once upon a time",
    });
    const count = () => tokensOf(b, assistantMessageId).length;
    await until(() => count() >= 30, 10_000, "30 tokens");
    expect((await b.call<{ knob: number }>("generation.setKnob", { value: 1 })).knob).toBe(1);
    const fastFrom = count() + 1;
    await until(() => count() >= fastFrom + 150, 10_000, "150 more tokens");
    await b.call("generation.setKnob", { value: 0 });
    const fullFrom = count() + 1;
    const { stats } = await done;
    const layers = tokensOf(b, assistantMessageId).map((t) => t.exitLayer);
    expect(stats.tokens).toBe(layers.length);
    expect(layers.length).toBeGreaterThan(fullFrom + 40);
    // Knob 0: every token runs all 5 layers; knob 1: some tokens leave early.
    expect(layers.slice(0, 30).every((l) => l === 5)).toBe(true);
    expect(layers.slice(fastFrom, fullFrom - 1).some((l) => l < 5)).toBe(true);
    // The engine sends tokens in batches (up to 4 ms apart) and the knob reaches it after the
    // tokens it had made by then: a few more of those may still have left early.
    const inFlight = 20;
    expect(layers.slice(fullFrom + inFlight).every((l) => l === 5)).toBe(true);
    expect((await messages(b, chat.id))[1].exitLayers).toEqual(layers);
    expect((await b.call<{ knob: number }>("settings.get", {})).knob).toBe(0);
  });

  it("selects (loads) a model with a status event, renames it and deletes it with its files", async () => {
    const b = await start({ select: false });
    const id = b.modelId!;
    const statuses: Array<EventOf<"engine.status">> = [];
    b.backend.events.subscribe(
      (event, payload) => event === "engine.status" && statuses.push(payload as EventOf<"engine.status">),
    );
    await b.backend.services.engine.start();
    expect(await b.call("models.select", { id })).toMatchObject({ state: "ready", loadedModelId: id });
    expect(statuses.at(-1)).toMatchObject({ state: "ready", loadedModelId: id });
    expect(statuses.at(-1)?.loading).toBeUndefined();
    // Load progress came from the engine host as it created the model's sessions, rising to 1.
    const progress = statuses.flatMap((st) => (st.loading?.modelId === id ? [st.loading.progress] : []));
    expect(progress.length).toBeGreaterThan(2);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(progress.at(-1)).toBeGreaterThan(0.8);
    expect(await b.call("settings.get", {})).toMatchObject({ activeModelId: id });

    expect(await b.call("models.rename", { id, name: "Tiny stories" })).toMatchObject({
      id,
      name: "Tiny stories",
    });
    expect(await b.call("models.list", {})).toMatchObject([{ id, name: "Tiny stories" }]);
    expect(JSON.parse(readFileSync(path.join(b.modelsDir, id, "manifest.json"), "utf8")).name).toBe(
      "Tiny stories",
    );
    expect(b.seen.some((e) => e.event === "models.changed")).toBe(true);

    expect(await b.call("models.select", { id: null })).toMatchObject({ loadedModelId: null });
    expect(await b.call("models.select", { id })).toMatchObject({ loadedModelId: id });
    expect(await b.call("models.delete", { id })).toEqual({ deleted: true });
    expect(existsSync(path.join(b.modelsDir, id))).toBe(false);
    expect(await b.call("models.list", {})).toEqual([]);
    expect(await b.call("settings.get", {})).toMatchObject({ activeModelId: null });
    expect(await b.call("engine.status", {})).toMatchObject({ loadedModelId: null });
    expect(statuses.at(-1)).toMatchObject({ loadedModelId: null });
    await expect(b.call("models.select", { id: "ghost" })).rejects.toMatchObject({ code: "not_found" });
    await expect(b.call("models.delete", { id })).rejects.toMatchObject({ code: "not_found" });
    await expect(b.call("models.rename", { id, name: "x" })).rejects.toMatchObject({ code: "not_found" });
  });
});
