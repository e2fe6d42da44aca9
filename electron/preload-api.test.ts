import { describe, expect, it, vi } from "vitest";
import { IPC_EVENT, IPC_REQUEST } from "./ipc-channels.js";
import { buildApi, commonSource } from "./preload-api.js";

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

  it("turns an error reply into a rejection with its message", async () => {
    const { ipc } = fakeIpc({
      ok: false,
      error: { code: "not_found", message: 'No conversation with id "x".' },
    });
    await expect(buildApi(ipc, () => "").request("chat.get", { id: "x" })).rejects.toThrow(
      'No conversation with id "x".',
    );
  });

  it("refuses unknown channels and page-made paths before reaching main", async () => {
    const { ipc, invoked } = fakeIpc();
    const api = buildApi(ipc, () => "");
    await expect(api.request("fs.read" as never, {} as never)).rejects.toThrow(/Unknown channel/);
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

  it("delivers events to their listeners only, without the IPC event object", () => {
    const { ipc, emit } = fakeIpc();
    const api = buildApi(ipc, () => "");
    const seen: unknown[] = [];
    const off = api.on("models.changed", (p) => seen.push(p));
    api.on("engine.status", () => seen.push("wrong"));
    emit({ event: "models.changed", payload: {} });
    off();
    emit({ event: "models.changed", payload: {} });
    emit(null);
    expect(seen).toEqual([{}]);
    expect(() => api.on("nope" as never, () => {})).toThrow(/Unknown event/);
  });

  it("imports one folder from several files, never a mix", () => {
    expect(commonSource(["/a/b.gguf"])).toBe("/a/b.gguf");
    expect(commonSource(["C:\\m\\x\\a.json", "C:\\m\\x\\b.bin"])).toBe("C:\\m\\x");
    expect(() => commonSource(["/a/1", "/b/2"])).toThrow(/one model folder/);
  });
});
