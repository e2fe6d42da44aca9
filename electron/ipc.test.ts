import { describe, expect, it, vi } from "vitest";
import { createDispatcher, type Handlers } from "./dispatch.js";
import { IPC_EVENT, IPC_REQUEST } from "./ipc-channels.js";
import { registerIpc } from "./ipc.js";
import { createEventBus } from "./services/event-bus.js";

vi.mock("electron", () => ({}));

function setup() {
  const state = { titles: [] as string[] };
  const handlers = new Proxy({} as Handlers, {
    get: (_t, name) =>
      name === "chat.create"
        ? async ({ title }: { title?: string }) => {
            state.titles.push(title ?? "");
            return {
              id: "c1",
              title: title ?? "New chat",
              updatedAt: "t",
              createdAt: "t",
              modelId: null,
              preview: "",
              systemPrompt: "",
              sampling: {
                temperature: 1,
                topP: 1,
                topK: 0,
                minP: 0,
                repetitionPenalty: 1,
                maxTokens: 1,
                seed: null,
              },
              overflow: "drop-oldest" as const,
            };
          }
        : undefined,
  });
  const registered = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const ipcMain = {
    handle: (channel: string, h: never) => void registered.set(channel, h),
    removeHandler: (c: string) => void registered.delete(c),
  };
  const events = createEventBus();
  const sent: unknown[] = [];
  const dispose = registerIpc({
    ipcMain,
    dispatch: createDispatcher(handlers),
    events,
    sendToWindow: (c, m) => sent.push([c, m]),
  });
  const invoke = (url: string, channel: unknown, payload: unknown) =>
    registered.get(IPC_REQUEST)!({ senderFrame: { url } }, channel, payload);
  return { state, invoke, events, sent, dispose, registered };
}

const APP = "exitlane-app://app/index.html";

describe("registerIpc", () => {
  it("dispatches requests from the app's page", async () => {
    const { invoke, state } = setup();
    expect(await invoke(APP, "chat.create", { title: "Hi" })).toMatchObject({
      ok: true,
      result: { title: "Hi" },
    });
    expect(state.titles).toEqual(["Hi"]);
  });

  it("rejects a wrong type, a missing field and an unknown channel clearly, changing nothing", async () => {
    const { invoke, state } = setup();
    expect(await invoke(APP, "chat.create", { title: 5 })).toMatchObject({
      ok: false,
      error: { code: "bad_request", message: expect.stringContaining("title") },
    });
    expect(await invoke(APP, "chat.rename", { title: "x" })).toMatchObject({
      ok: false,
      error: { code: "bad_request", message: expect.stringContaining("id") },
    });
    expect(await invoke(APP, "app.quit", {})).toEqual({
      ok: false,
      error: { code: "unknown_channel", message: 'Unknown channel "app.quit".' },
    });
    expect(await invoke(APP, undefined, undefined)).toMatchObject({
      ok: false,
      error: { code: "unknown_channel" },
    });
    expect(state.titles).toEqual([]);
  });

  it("ignores requests from any other page", async () => {
    const { invoke, state } = setup();
    expect(await invoke("https://evil.example/", "chat.create", {})).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
    expect(await invoke("", "chat.create", {})).toMatchObject({ ok: false });
    expect(state.titles).toEqual([]);
  });

  it("forwards the events of one tick to the window as one message, in order, until disposed", async () => {
    const job = { jobId: "j1", source: "a.gguf", stage: "read", progress: 0.5, state: "running" } as const;
    const { events, sent, dispose, registered } = setup();
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    events.emit("models.changed", {});
    events.emit("import.progress", job);
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([
      [
        IPC_EVENT,
        [
          { event: "models.changed", payload: {} },
          { event: "import.progress", payload: job },
        ],
      ],
    ]);
    events.emit("models.changed", {});
    dispose();
    events.emit("models.changed", {});
    await tick();
    expect(sent).toHaveLength(1);
    expect(registered.size).toBe(0);
  });
});
