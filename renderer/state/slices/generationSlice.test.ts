import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeApi } from "../../test/fakeApi";
import { setupStore as setup } from "../../test/storeSetup";

afterEach(() => {
  vi.useRealTimers();
});

const userMessage = (conversationId: string, content: string) => ({
  id: "",
  conversationId,
  role: "user" as const,
  content,
  createdAt: "",
  exitLayers: [],
  tokenTexts: [],
  stats: null,
  modelId: null,
});

describe("generation slice", () => {
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
      const user = { ...userMessage(conversationId, text), id: "u9" };
      api.streamTokens(conversationId, "a9", ["Early", " bird"]);
      frames.runFrame();
      return { userMessage: user, assistantMessageId: "a9", conversation: api.conversations[0] };
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
  it("a Stop pressed before chat.send replies is sent once the reply names the answer", async () => {
    const { api, s } = await setup();
    let reply!: () => void;
    const replied = new Promise<void>((resolve) => (reply = resolve));
    api.handle("chat.send", async ({ conversationId, text }) => {
      await replied;
      const user = { ...userMessage(conversationId, text), id: "u7" };
      return { userMessage: user, assistantMessageId: "a7", conversation: api.conversations[0] };
    });
    expect(s().canStop()).toBe(false);
    const sending = s().send("long story");
    await Promise.resolve();
    expect(s().generation).toBeNull();
    expect(s().canStop()).toBe(true);
    await s().stop();
    expect(api.calls.some((c) => c.channel === "chat.stop")).toBe(false);
    reply();
    await sending;
    await vi.waitFor(() =>
      expect(api.calls.at(-1)).toEqual({ channel: "chat.stop", payload: { conversationId: s().activeId } }),
    );
    expect(s().generation?.stopRequestedAt).not.toBeNull();

    // The next answer is not stopped by the press before.
    api.finish(s().activeId!, "a7", "stopped");
    api.handle("chat.send", async ({ conversationId, text }) => {
      const user = { ...userMessage(conversationId, text), id: "u8" };
      return { userMessage: user, assistantMessageId: "a8", conversation: api.conversations[0] };
    });
    await s().send("another");
    expect(s().generation).toMatchObject({ messageId: "a8", stopRequestedAt: null });
    expect(api.calls.filter((c) => c.channel === "chat.stop")).toHaveLength(1);
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
});
