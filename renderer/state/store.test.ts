import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeApi, makeModel, manualScheduler, type FakeApi } from "../test/fakeApi";
import { createAppStore } from "./store";

async function setup(
  api: FakeApi = createFakeApi({
    conversations: [
      {
        title: "First",
        messages: [
          ["user", "hello"],
          ["assistant", "Hi there friend"],
        ],
      },
    ],
  }),
) {
  const frames = manualScheduler();
  const store = createAppStore(api, { scheduler: frames.schedule, stopGraceMs: 2000 });
  await store.getState().init();
  return { api, store, frames, s: () => store.getState() };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("app store", () => {
  it("opens the latest chat at start-up without taking the user away from a view they went to", async () => {
    const api = createFakeApi({ conversations: [{ title: "First", messages: [["user", "hello"]] }] });
    const store = createAppStore(api, { scheduler: manualScheduler().schedule, stopGraceMs: 2000 });
    const started = store.getState().init();
    store.getState().setView("settings");
    await started;
    expect(store.getState().view).toBe("settings");
    expect(store.getState().activeId).toBe(store.getState().conversations[0].id);
  });

  it("loads settings, engine info and status, models and conversations, and opens the latest chat", async () => {
    const { s } = await setup();
    expect(s().settings?.activeModelId).toBe("stories260k");
    expect(s().engineInfo?.onnxruntimeVersion).toBe("1.30.0");
    expect(s().engineStatus?.state).toBe("ready");
    expect(s().models).toHaveLength(1);
    expect(s().conversations.map((c) => c.title)).toEqual(["First"]);
    expect(s().activeId).toBe(s().conversations[0].id);
    expect(s().messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(s().chartMessageId).toBe(s().messages[1].id);
  });

  it("sends, streams tokens once per frame, and seals the answer on done", async () => {
    const { api, s, frames } = await setup();
    const sending = s().send("Tell me a story");
    expect(s().messages.at(-1)?.id.startsWith("local-")).toBe(true); // optimistic
    await sending;
    const answer = s().messages.at(-1)!;
    expect(answer.role).toBe("assistant");
    expect(answer.streaming).toBe(true);
    expect(s().generation?.messageId).toBe(answer.id);
    expect(s().chartMessageId).toBe(answer.id);

    const conv = s().activeId!;
    api.streamTokens(conv, answer.id, ["Once", " upon", " a", " time"], { exitLayers: [5, 2, 3, 1] });
    // nothing rendered until the frame
    expect(s().messages.at(-1)!.content).toBe("");
    frames.runFrame();
    expect(s().messages.at(-1)!.content).toBe("Once upon a time");
    expect(s().messages.at(-1)!.exitLayers).toEqual([5, 2, 3, 1]);

    api.streamTokens(conv, answer.id, [","]);
    api.finish(conv, answer.id);
    // done flushes pending tokens first, so the order is kept without waiting for a frame
    const done = s().messages.at(-1)!;
    expect(done.content).toBe("Once upon a time,");
    expect(done.streaming).toBe(false);
    expect(done.stats?.tokens).toBe(5);
    expect(s().generation).toBeNull();
    expect(s().conversations[0].preview).toBe("Once upon a time,");
  });

  it("keeps tokens that arrive before chat.send's reply", async () => {
    const { api, s, frames } = await setup();
    const conv = s().activeId!;
    api.handle("chat.send", async ({ conversationId, text }) => {
      const user = {
        id: "u9",
        conversationId,
        role: "user" as const,
        content: text,
        createdAt: "",
        exitLayers: [],
        tokenTexts: [],
        stats: null,
        modelId: null,
      };
      api.streamTokens(conversationId, "a9", ["Early", " bird"]);
      frames.runFrame();
      return { userMessage: user, assistantMessageId: "a9" };
    });
    await s().send("hi");
    expect(
      s()
        .messages.slice(-2)
        .map((m) => m.id),
    ).toEqual(["u9", "a9"]);
    expect(s().messages.at(-1)!.content).toBe("Early bird");
    expect(s().generation?.messageId).toBe("a9");
    api.finish(conv, "a9");
    expect(s().generation).toBeNull();
  });

  it("puts the text back and says why when a send fails", async () => {
    const { api, s } = await setup();
    api.handle("chat.send", () => {
      throw new Error("An answer is still being written in this conversation; stop it first.");
    });
    const before = s().messages.length;
    expect(await s().send("again")).toBe(false);
    expect(s().messages).toHaveLength(before);
    expect(s().composerRestore?.text).toBe("again");
    expect(s().toasts.at(-1)?.text).toMatch(/still being written/);
  });

  it("refuses to send without a model, in plain words", async () => {
    const api = createFakeApi({ models: [] });
    const { s } = await setup(api);
    expect(await s().send("hi")).toBe(false);
    expect(s().toasts.at(-1)?.text).toMatch(/No model is loaded/);
    expect(api.calls.some((c) => c.channel === "chat.send")).toBe(false);
  });

  it("creates a conversation on the first send when none is open", async () => {
    const api = createFakeApi();
    const { s } = await setup(api);
    expect(s().activeId).toBeNull();
    await s().send("hello");
    expect(s().activeId).not.toBeNull();
    expect(api.calls.map((c) => c.channel)).toContain("chat.create");
    expect(s().messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("stop asks the back end, and never leaves the answer stuck if no done event comes", async () => {
    vi.useFakeTimers();
    const { api, s } = await setup();
    await s().send("long story");
    const id = s().generation!.messageId;
    await s().stop();
    expect(api.calls.at(-1)).toEqual({ channel: "chat.stop", payload: { conversationId: s().activeId } });
    expect(s().generation?.stopRequestedAt).not.toBeNull();
    await s().stop(); // a second press does not send twice
    expect(api.calls.filter((c) => c.channel === "chat.stop")).toHaveLength(1);
    vi.advanceTimersByTime(2001);
    expect(s().generation).toBeNull();
    const m = s().messages.find((x) => x.id === id)!;
    expect(m.streaming).toBe(false);
    expect(m.stats?.stopReason).toBe("stopped");
  });

  it("an engine crash ends the answer with an explanation and keeps the conversation", async () => {
    const { api, s, frames } = await setup();
    await s().send("hi");
    const id = s().generation!.messageId;
    api.streamTokens(s().activeId!, id, ["Par", "tial"]);
    frames.runFrame();
    api.emit("engine.status", { state: "crashed", loadedModelId: null, message: "exit code 134" });
    expect(s().generation).toBeNull();
    const m = s().messages.find((x) => x.id === id)!;
    expect(m.content).toBe("Partial");
    expect(m.error).toMatch(/engine stopped while answering/);
    expect(s().messages.length).toBeGreaterThanOrEqual(4);
    expect(s().engineStatus?.state).toBe("crashed");
  });

  it("regenerate replaces the last answer; edit drops what follows the edited message", async () => {
    const { s } = await setup();
    const [user, answer] = s().messages;
    await s().regenerate();
    expect(s().messages.map((m) => m.id)).not.toContain(answer.id);
    expect(s().messages).toHaveLength(2);
    const regenerated = s().generation!.messageId;
    s().applyDoneEvent({
      conversationId: s().activeId!,
      messageId: regenerated,
      stats: {
        tokens: 0,
        tokensPerSecond: 0,
        timeToFirstTokenMs: 0,
        meanExitLayer: 0,
        layers: 5,
        stopReason: "eos",
      },
    });
    await s().editAndResend(user.id, "hello again");
    expect(s().messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(s().messages[0].content).toBe("hello again");
  });

  it("imports dropped groups, refuses non-models locally, and follows job progress", async () => {
    const { api, s } = await setup();
    await s().importGroups([
      { label: "stories260K.gguf", files: [new File(["x"], "stories260K.gguf")] },
      { label: "notes.txt", files: [new File(["x"], "notes.txt")] },
    ]);
    expect(api.imported).toHaveLength(1);
    expect(s().localImports).toEqual([
      expect.objectContaining({
        label: "notes.txt",
        state: "refused",
        error: expect.stringMatching(/not a model file/),
      }),
    ]);
    const job = s().jobs[0];
    expect(job.state).toBe("running");
    api.emit("import.progress", { ...job, stage: "quantize", progress: 0.5 });
    expect(s().jobs[0].stage).toBe("quantize");
    api.models.push(makeModel({ id: "new", name: "New model" }));
    const listsBefore = api.calls.filter((c) => c.channel === "models.list").length;
    api.emit("import.progress", { ...job, stage: "calibrate", progress: 1, state: "done", modelId: "new" });
    await vi.waitFor(() => expect(s().models.map((m) => m.id)).toContain("new"));
    expect(api.calls.filter((c) => c.channel === "models.list").length).toBe(listsBefore + 1);
    s().dismissJob(job.jobId);
    expect(s().jobs).toHaveLength(0);
  });

  it("shows a failed upload on its card in the host's words", async () => {
    const api = createFakeApi();
    api.importFiles = async () => {
      throw new Error("broken.gguf is not a GGUF file: the first four bytes are not 'GGUF'.");
    };
    const { s } = await setup(api);
    await s().importGroups([{ label: "broken.gguf", files: [new File(["junk"], "broken.gguf")] }]);
    expect(s().localImports[0].state).toBe("refused");
    expect(s().localImports[0].error).toMatch(
      /broken.gguf could not be imported: broken.gguf is not a GGUF file/,
    );
    expect(s().models).toHaveLength(1);
  });

  it("selects a model, sets the knob and saves settings", async () => {
    const { api, s } = await setup();
    await s().selectModel(null);
    expect(s().settings?.activeModelId).toBeNull();
    await s().selectModel("stories260k");
    expect(s().settings?.activeModelId).toBe("stories260k");
    expect(s().selectingModelId).toBeNull();
    await s().setKnob(0.6);
    expect(api.calls.at(-1)).toEqual({ channel: "generation.setKnob", payload: { value: 0.6 } });
    expect(s().settings?.knob).toBe(0.6);
    await s().updateSettings({ theme: "dark" });
    expect(s().settings?.theme).toBe("dark");
  });

  it("rolls a refused setting back and says why", async () => {
    const { api, s } = await setup();
    api.handle("settings.set", () => {
      throw new Error('Execution provider "cuda" is not available here');
    });
    await s().updateSettings({ executionProvider: "cuda" });
    expect(s().settings?.executionProvider).toBe("cpu");
    expect(s().toasts.at(-1)?.text).toMatch(/cuda/);
  });

  it("renames and deletes conversations; deleting the open one opens the next", async () => {
    const api = createFakeApi({ conversations: [{ title: "Older" }, { title: "Newer" }] });
    const { s } = await setup(api);
    expect(s().conversation?.title).toBe("Newer");
    await s().renameConversation(s().activeId!, "  Renamed  ");
    expect(s().conversations[0].title).toBe("Renamed");
    await s().deleteConversation(s().activeId!);
    expect(s().conversations.map((c) => c.title)).toEqual(["Older"]);
    expect(s().conversation?.title).toBe("Older");
  });

  it("searches conversations through the back end", async () => {
    const api = createFakeApi({
      conversations: [{ title: "Cats", messages: [["user", "tell me about llamas"]] }, { title: "Dogs" }],
    });
    const { s } = await setup(api);
    s().setSearchQuery("llamas");
    await s().refreshConversations();
    expect(s().conversations.map((c) => c.title)).toEqual(["Cats"]);
    expect(api.calls.at(-1)).toEqual({ channel: "chat.list", payload: { query: "llamas" } });
  });

  it("unsubscribes every listener on dispose", async () => {
    const { api, s } = await setup();
    expect(api.listenerCount("generation.token")).toBe(1);
    s().dispose();
    expect(api.listenerCount("generation.token")).toBe(0);
    expect(api.listenerCount("import.progress")).toBe(0);
  });
});
