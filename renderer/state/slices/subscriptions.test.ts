import { describe, expect, it } from "vitest";
import { createFakeApi, manualScheduler } from "../../test/fakeApi";
import { setupStore as setup } from "../../test/storeSetup";
import { createAppStore } from "../store";

describe("store start-up and events", () => {
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
  it("unsubscribes every listener on dispose", async () => {
    const { api, s } = await setup();
    expect(api.listenerCount("generation.token")).toBe(1);
    s().dispose();
    expect(api.listenerCount("generation.token")).toBe(0);
    expect(api.listenerCount("import.progress")).toBe(0);
  });
});
