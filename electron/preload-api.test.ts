import { describe, expect, it, vi } from "vitest";
import { IPC_EVENT, IPC_REQUEST } from "./ipc-channels.js";
import { buildApi, commonSource, forContextBridge } from "./preload-api.js";
import { ApiError } from "../wire/errors.js";
import { withApiErrors } from "../renderer/api/createApi.js";

function fakeIpc(reply: unknown = { ok: true, result: { jobId: "j1" } }) {
  const invoked: unknown[][] = [];
  let deliver: (e: unknown, m: unknown) => void = () => {};
  const ipc = {
    invoke: vi.fn(async (...args: unknown[]) => {
      invoked.push(args);
      return reply;
    }),
    on: (channel: string, l: typeof deliver) => {
      expect(channel).toBe(IPC_EVENT);
      deliver = l;
    },
  };
  return { ipc, invoked, emit: (m: unknown) => deliver({ sender: "secret" }, m) };
}

const file = (name: string) => new File(["x"], name);

describe("the preload API", () => {
  it("sends contract requests over the one IPC channel and unwraps the reply", async () => {
    const { ipc, invoked } = fakeIpc({ ok: true, result: { theme: "dark" } });
    const api = buildApi(ipc, () => "");
    expect(api.transport).toBe("ipc");
    await expect(api.request("settings.get", {})).resolves.toEqual({ theme: "dark" });
    expect(invoked).toEqual([[IPC_REQUEST, "settings.get", {}]]);
  });

  it("turns an error reply into an ApiError with its code, message and detail", async () => {
    const { ipc } = fakeIpc({
      ok: false,
      error: { code: "not_found", message: 'No conversation with id "x".' },
    });
    const api = buildApi(ipc, () => "");
    await expect(api.request("chat.get", { id: "x" })).rejects.toThrow('No conversation with id "x".');
    await expect(api.request("chat.get", { id: "x" })).rejects.toEqual(
      new ApiError("not_found", 'No conversation with id "x".', { channel: "chat.get" }),
    );
  });

  it("keeps the ApiError whole across the context bridge, which copies an Error's message only", async () => {
    const detail = { formatCode: "truncated", file: "/m/x.gguf" } as const;
    const { ipc } = fakeIpc({ ok: false, error: { code: "model_format", message: "file ended", detail } });
    const bridged = forContextBridge(buildApi(ipc, () => ""));
    // The bridge's copy: data is cloned, an Error keeps only its message.
    const copy = (e: unknown) => (e instanceof Error ? new Error(e.message) : structuredClone(e));
    const page = withApiErrors({
      ...bridged,
      request: (channel, payload) => bridged.request(channel, payload).catch((e) => Promise.reject(copy(e))),
      importFiles: (files) => bridged.importFiles(files).catch((e) => Promise.reject(copy(e))),
    });
    const failed = page.request("models.list", {});
    await expect(failed).rejects.toBeInstanceOf(ApiError);
    await expect(failed).rejects.toMatchObject({ code: "model_format", detail, channel: "models.list" });
    await expect(page.importFiles([])).rejects.toMatchObject({
      code: "bad_request",
      message: "No files to import.",
    });
  });

  it("refuses unknown channels and page-made paths before reaching main", async () => {
    const { ipc, invoked } = fakeIpc();
    const api = buildApi(ipc, () => "");
    await expect(api.request("fs.read" as never, {} as never)).rejects.toMatchObject({
      code: "unknown_channel",
      message: expect.stringMatching(/Unknown channel/),
    });
    await expect(api.request("models.importPath", { path: "/etc/shadow" })).rejects.toThrow(
      /not available to the page/,
    );
    expect(invoked).toEqual([]);
  });

  it("imports dropped files by the paths Electron knows for them", async () => {
    const paths: Record<string, string> = {
      "a.gguf": "/home/u/a.gguf",
      "config.json": "/m/x/config.json",
      "w.safetensors": "/m/x/w.safetensors",
    };
    const { ipc, invoked } = fakeIpc();
    const api = buildApi(ipc, (f) => paths[f.name] ?? "");
    await expect(api.importFiles([file("a.gguf")])).resolves.toEqual({ jobId: "j1" });
    await api.importFiles([file("config.json"), file("w.safetensors")]);
    expect(invoked).toEqual([
      [IPC_REQUEST, "models.importPath", { path: "/home/u/a.gguf" }],
      [IPC_REQUEST, "models.importPath", { path: "/m/x" }],
    ]);
    await expect(api.importFiles([file("made-up.gguf")])).rejects.toThrow(/Only files dropped/);
    await expect(api.importFiles([])).rejects.toThrow(/No files/);
  });

  it("passes the import options (quantization, import again) and never a path from the page", async () => {
    const { ipc, invoked } = fakeIpc();
    const api = buildApi(ipc, () => "/home/u/a.gguf");
    const f = new File(["x"], "a.gguf");
    await api.importFiles([f], { quant: "int4", again: true });
    expect(invoked).toEqual([
      [IPC_REQUEST, "models.importPath", { quant: "int4", again: true, path: "/home/u/a.gguf" }],
    ]);
    const sneaky = { path: "/etc/passwd" } as unknown as Parameters<typeof api.importFiles>[1];
    await expect(api.importFiles([f], sneaky)).rejects.toMatchObject({ code: "bad_request" });
    expect(invoked).toHaveLength(1);
  });

  it("delivers each event of a batch to its listeners only, in order, without the IPC event object", () => {
    const { ipc, emit } = fakeIpc();
    const api = buildApi(ipc, () => "");
    const seen: unknown[] = [];
    const off = api.on("models.changed", (p) => seen.push(p));
    api.on("engine.status", () => seen.push("wrong"));
    emit([
      { event: "models.changed", payload: { n: 1 } },
      { event: "models.changed", payload: { n: 2 } },
    ]);
    off();
    emit([{ event: "models.changed", payload: {} }]);
    emit(null);
    emit({ event: "models.changed", payload: {} });
    expect(seen).toEqual([{ n: 1 }, { n: 2 }]);
    expect(() => api.on("nope" as never, () => {})).toThrow(/Unknown event/);
  });

  it("imports one folder from several files, never a mix", () => {
    expect(commonSource(["/a/b.gguf"])).toBe("/a/b.gguf");
    expect(commonSource(["C:\\m\\x\\a.json", "C:\\m\\x\\b.bin"])).toBe("C:\\m\\x");
    expect(() => commonSource(["/a/1", "/b/2"])).toThrow(/one model folder/);
  });
});
