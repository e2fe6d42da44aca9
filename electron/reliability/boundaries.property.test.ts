// Issue 6, boundaries, property-based over the real transports (the dispatcher's own properties are
// in electron/dispatch.property.test.ts):
//   - WebSocket: whatever frames a client sends, each gets one well-formed reply, handlers run only
//     for payloads the contract accepts, the socket stays usable; only this run's token with the
//     host's own Origin opens a socket.
//   - The renderer reaches no file it did not choose: over the web host every path-taking channel
//     refuses page-made paths (with the real back end); over IPC only the app's own page is heard,
//     and the preload never lets page script send a path (only files Electron resolved from a drop
//     or a dialog); upload names can never leave the upload folder.
import fc from "fast-check";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { channels, requests, type Channel } from "../contract.js";
import { createDispatcher } from "../dispatch.js";
import { IPC_REQUEST } from "../ipc-channels.js";
import { registerIpc } from "../ipc.js";
import { buildApi } from "../preload-api.js";
import { createBackend, type Backend } from "../services/backend.js";
import { createEventBus } from "../services/event-bus.js";
import { realHostEntry, spawnTsHost } from "../test-support/engine.js";
import { recordingHandlers } from "../test-support/recording-handlers.js";
import { safeRelativePath } from "../web-upload.js";
import { WEB_HOST_REFUSALS, startWebHost, type WebHost } from "../web-host.js";

vi.mock("electron", () => ({}));

const anyPayload = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      id: fc.jsonValue(),
      title: fc.jsonValue(),
      text: fc.jsonValue(),
      path: fc.jsonValue(),
      value: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);

describe("the WebSocket transport under arbitrary frames", () => {
  let dir: string;
  let host: WebHost;
  const { handlers, received } = recordingHandlers();
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-ws-prop-"));
    mkdirSync(path.join(dir, "renderer"));
    writeFileSync(path.join(dir, "renderer/index.html"), "<!doctype html>");
    host = await startWebHost({
      dispatch: createDispatcher(handlers, { validateReplies: false }),
      events: createEventBus(),
      rendererDir: path.join(dir, "renderer"),
      uploadRoot: path.join(dir, "uploads"),
      startImport: async () => {
        throw new Error("no imports in this test");
      },
    });
  });
  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(query: string, headers: Record<string, string>): Promise<WebSocket | number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws${query}`, { headers });
      ws.once("open", () => resolve(ws));
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => resolve(-1));
    });
  }

  it("answers every frame once, runs handlers only for valid requests, and stays open", async () => {
    const ws = (await open(`?token=${host.token}`, { Origin: host.origin })) as WebSocket;
    const replies: Array<Record<string, unknown>> = [];
    let closed = false;
    ws.on("close", () => (closed = true));
    ws.on("message", (data) => replies.push(JSON.parse(String(data))));
    const frame = fc.oneof(
      fc.string().map((text) => ({ text })),
      fc.jsonValue().map((v) => ({ text: JSON.stringify(v) })),
      fc
        .record({
          id: fc.integer({ min: -5, max: 1_000_000 }),
          channel: fc.oneof(fc.constantFrom(...channels), fc.string({ maxLength: 120 })),
          payload: anyPayload,
        })
        .map((v) => ({ text: JSON.stringify(v), request: v })),
      fc
        .record(
          { id: fc.jsonValue(), channel: fc.jsonValue(), payload: fc.jsonValue(), extra: fc.jsonValue() },
          { requiredKeys: [] },
        )
        .map((v) => ({ text: JSON.stringify(v) })),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ binary: Buffer.from(bytes) })),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        const before = replies.length;
        const ran = received.length;
        ws.send("binary" in f ? f.binary! : f.text!, { binary: "binary" in f });
        const end = Date.now() + 5000;
        while (replies.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
        expect(replies.length).toBe(before + 1);
        const reply = replies.at(-1)!;
        expect(reply.type).toBe("reply");
        const request = "request" in f ? f.request : undefined;
        const valid =
          request !== undefined &&
          (channels as string[]).includes(request.channel) &&
          requests[request.channel as Channel].request.safeParse(request.payload).success;
        if (valid) {
          expect(reply).toEqual({ type: "reply", id: request!.id, ok: true, result: null });
          expect(received.slice(ran)).toEqual([{ channel: request!.channel, payload: expect.anything() }]);
        } else {
          expect(reply).toMatchObject({
            ok: false,
            error: { code: expect.stringMatching(/^(bad_request|unknown_channel)$/) },
          });
          expect(received.length).toBe(ran);
        }
      }),
      { numRuns: 400 },
    );
    expect(closed).toBe(false);
    ws.close();
  });

  it("opens a socket only with this run's token and the host's own Origin", async () => {
    const token = fc.oneof(fc.constant(host.token), fc.string({ maxLength: 70 }).map(encodeURIComponent));
    const origin = fc.oneof(
      fc.constant(host.origin),
      fc.constantFrom(
        "http://evil.example",
        "null",
        `http://localhost:${host.port}`,
        `https://127.0.0.1:${host.port}`,
        "file://",
      ),
      fc.webUrl().map((u) => new URL(u).origin),
    );
    await fc.assert(
      fc.asyncProperty(token, origin, async (t, o) => {
        const result = await open(`?token=${t}`, { Origin: o });
        const opened = typeof result !== "number";
        if (opened) (result as WebSocket).close();
        expect(opened).toBe(t === host.token && o === host.origin);
      }),
      { numRuns: 60 },
    );
  });
});

describe("no file the user did not choose", () => {
  let backend: Backend;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-paths-"));
    backend = createBackend({
      userDataDir: dir,
      engine: { spawn: spawnTsHost(realHostEntry) },
      refuse: WEB_HOST_REFUSALS,
    });
  });
  afterAll(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hostilePath = fc.oneof(
    fc.string({ minLength: 1, maxLength: 300 }),
    fc.constantFrom(
      "/etc/passwd",
      "../../../../etc/shadow",
      "C:\\Windows\\System32",
      "\\\\server\\share\\x.gguf",
      "~/.ssh/id_rsa",
      "/dev/zero",
      "/proc/self/mem",
    ),
    fc
      .array(fc.constantFrom("..", ".", "etc", "x", "", "%2e%2e"), { maxLength: 12 })
      .map((parts) => `/${parts.join("/")}`),
  );

  it("over the web host, every path-taking channel refuses page-made paths and changes nothing", async () => {
    const settings = JSON.stringify((await backend.dispatch("settings.get", {})) as object);
    const current = backend.services.settings.get().modelsDir;
    await fc.assert(
      fc.asyncProperty(hostilePath, fc.constantFrom(undefined, "int4", "f32"), async (p, quant) => {
        const importing = await backend.dispatch("models.importPath", {
          path: p,
          ...(quant ? { quant } : {}),
        });
        expect(importing).toMatchObject({ ok: false, error: { code: "bad_request" } });
        fc.pre(p !== current);
        expect(await backend.dispatch("settings.set", { modelsDir: p })).toMatchObject({
          ok: false,
          error: { code: "bad_request" },
        });
      }),
      { numRuns: 300 },
    );
    expect(await backend.dispatch("settings.chooseModelsDir", {})).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
    expect(await backend.dispatch("models.importDialog", { folder: true })).toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });
    expect(backend.services.imports.list()).toEqual([]);
    expect(JSON.stringify(await backend.dispatch("settings.get", {}))).toBe(settings);
  });

  it("over IPC, only the app's own page is heard", async () => {
    const { handlers, received } = recordingHandlers();
    const registered = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    registerIpc({
      ipcMain: { handle: (c: string, h: never) => void registered.set(c, h), removeHandler: () => undefined },
      dispatch: createDispatcher(handlers, { validateReplies: false }),
      events: createEventBus(),
      sendToWindow: () => undefined,
    });
    const foreign = fc.oneof(
      fc.webUrl(),
      fc.string(),
      fc.constantFrom(
        "exitlane-app://app.evil.com/",
        "exitlane-app://appx/",
        "file:///index.html",
        "http://127.0.0.1/",
        "exitlane-app://app@evil/",
      ),
      fc.constant(undefined),
    );
    await fc.assert(
      fc.asyncProperty(foreign, fc.constantFrom(...channels), anyPayload, async (url, channel, payload) => {
        const reply = await registered.get(IPC_REQUEST)!(
          { senderFrame: url === undefined ? undefined : { url } },
          channel,
          payload,
        );
        expect(reply).toMatchObject({
          ok: false,
          error: { code: "bad_request", message: expect.stringMatching(/own page/) },
        });
      }),
      { numRuns: 300 },
    );
    expect(received).toEqual([]);
  });

  it("the preload never lets page script send a path; only files Electron resolved can be imported", async () => {
    const invoked: unknown[][] = [];
    const ipc = {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { ok: true, result: { jobId: "j" } };
      },
      on: () => undefined,
    };
    // webUtils.getPathForFile gives "" for a File made by page script (new File([...])).
    const api = buildApi(ipc, () => "");
    await fc.assert(
      fc.asyncProperty(
        anyPayload,
        fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
        async (payload, names) => {
          await expect(api.request("models.importPath", payload as never)).rejects.toThrow(
            /not available to the page/,
          );
          await expect(api.importFiles(names.map((n) => new File(["x"], n)))).rejects.toThrow(
            /Only files dropped/,
          );
        },
      ),
      { numRuns: 200 },
    );
    expect(invoked).toEqual([]);
  });

  it("upload names never lead out of the upload folder", () => {
    const root = path.resolve(os.tmpdir(), "uploads", "u1");
    const name = fc.oneof(
      fc.string(),
      fc
        .array(fc.constantFrom("..", ".", "a", "b.gguf", "", "/", "\\", "C:", "\u0000", "..\\..", "%2e%2e"), {
          maxLength: 12,
        })
        .map((p) => p.join("/")),
      fc.array(fc.constantFrom("..", "a", "\\", "/"), { maxLength: 12 }).map((p) => p.join("")),
    );
    fc.assert(
      fc.property(name, (n) => {
        const safe = safeRelativePath(n);
        if (safe === null) return;
        const target = path.resolve(root, safe);
        expect(target.startsWith(root + path.sep)).toBe(true);
        expect(safe.split("/")).not.toContain("..");
        expect(path.isAbsolute(safe)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
