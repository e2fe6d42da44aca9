import { describe, expect, it, vi } from "vitest";
import type { Settings } from "./contract.js";
import { createDispatcher, type Handlers } from "./dispatch.js";
import { ChannelError } from "./services/errors.js";

function fakeHandlers(overrides: Partial<Handlers> = {}) {
  const calls: string[] = [];
  const handler = (name: string) =>
    vi.fn(async () => {
      calls.push(name);
      return {};
    });
  const handlers = new Proxy({} as Handlers, {
    get: (_t, name: string) => (overrides as Record<string, unknown>)[name] ?? handler(name),
  });
  return { handlers, calls };
}

const conversation = {
  id: "c1",
  title: "Hello",
  updatedAt: "2026-01-01T00:00:00.000Z",
  createdAt: "2026-01-01T00:00:00.000Z",
  modelId: null,
  preview: "",
  systemPrompt: "",
  sampling: { temperature: 1, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, maxTokens: 10, seed: null },
  overflow: "drop-oldest" as const,
};

describe("createDispatcher", () => {
  it("calls the handler with the validated payload and wraps the result", async () => {
    const rename = vi.fn(async ({ title }: { id: string; title: string }) => ({ ...conversation, title }));
    const dispatch = createDispatcher(fakeHandlers({ "chat.rename": rename }).handlers);
    await expect(dispatch("chat.rename", { id: "c1", title: "New" })).resolves.toEqual({
      ok: true,
      result: { ...conversation, title: "New" },
    });
    expect(rename).toHaveBeenCalledWith({ id: "c1", title: "New" });
  });

  it("refuses an unknown channel without calling anything", async () => {
    const { handlers, calls } = fakeHandlers();
    const dispatch = createDispatcher(handlers);
    for (const channel of ["fs.readFile", "__proto__", "constructor", 42, null]) {
      const reply = await dispatch(channel, {});
      expect(reply).toMatchObject({ ok: false, error: { code: "unknown_channel" } });
    }
    expect(calls).toEqual([]);
  });

  it("refuses a wrong type, a missing field and an extra field with zod's readable message", async () => {
    const { handlers, calls } = fakeHandlers();
    const dispatch = createDispatcher(handlers);
    const wrongType = await dispatch("chat.rename", { id: "c1", title: 42 });
    expect(wrongType).toEqual({
      ok: false,
      error: {
        code: "bad_request",
        message: expect.stringMatching(/^Invalid request for chat\.rename: .*expected string.*title/s),
      },
    });
    const missing = await dispatch("chat.send", { conversationId: "c1" });
    expect(missing).toMatchObject({
      ok: false,
      error: { code: "bad_request", message: expect.stringContaining("text") },
    });
    const extra = await dispatch("settings.get", { sneaky: true });
    expect(extra).toMatchObject({
      ok: false,
      error: { code: "bad_request", message: expect.stringContaining("sneaky") },
    });
    const notAnObject = await dispatch("chat.get", "c1");
    expect(notAnObject).toMatchObject({ ok: false, error: { code: "bad_request" } });
    expect(calls).toEqual([]);
  });

  it("turns a ChannelError into its code and detail and an unexpected error into internal", async () => {
    const { handlers } = fakeHandlers({
      "chat.get": async () => {
        throw new ChannelError("not_found", 'No conversation with id "x".');
      },
      "models.calibrate": async () => {
        throw new ChannelError("model_format", "file ended (/m/x.gguf)", {
          formatCode: "truncated",
          file: "/m/x.gguf",
        });
      },
      "chat.list": async () => {
        throw new TypeError("cannot read x of undefined");
      },
    });
    const onInternalError = vi.fn();
    const dispatch = createDispatcher(handlers, { onInternalError });
    await expect(dispatch("chat.get", { id: "x" })).resolves.toEqual({
      ok: false,
      error: { code: "not_found", message: 'No conversation with id "x".' },
    });
    await expect(dispatch("models.calibrate", { id: "x" })).resolves.toEqual({
      ok: false,
      error: {
        code: "model_format",
        message: "file ended (/m/x.gguf)",
        detail: { formatCode: "truncated", file: "/m/x.gguf" },
      },
    });
    await expect(dispatch("chat.list", {})).resolves.toEqual({
      ok: false,
      error: { code: "internal", message: "chat.list failed unexpectedly: cannot read x of undefined" },
    });
    expect(onInternalError).toHaveBeenCalledOnce();
  });

  it("catches a reply that breaks the contract when validation is on", async () => {
    const bad = { "settings.get": async () => ({ theme: "purple" }) as unknown as Settings };
    const onInternalError = vi.fn();
    const strict = createDispatcher(fakeHandlers(bad).handlers, { onInternalError });
    await expect(strict("settings.get", {})).resolves.toMatchObject({
      ok: false,
      error: { code: "internal" },
    });
    expect(onInternalError).toHaveBeenCalledOnce();
    const lax = createDispatcher(fakeHandlers(bad).handlers, { validateReplies: false });
    await expect(lax("settings.get", {})).resolves.toEqual({ ok: true, result: { theme: "purple" } });
  });

  it("refuses the channels a transport does not offer", async () => {
    const { handlers, calls } = fakeHandlers();
    const dispatch = createDispatcher(handlers, {
      refuse: { "models.importPath": "Upload the file instead." },
    });
    await expect(dispatch("models.importPath", { path: "/etc/passwd" })).resolves.toEqual({
      ok: false,
      error: { code: "bad_request", message: "Upload the file instead." },
    });
    expect(calls).toEqual([]);
  });
});
