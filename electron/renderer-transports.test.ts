// One contract suite over both transports the renderer uses: the desktop app's (the preload's
// API over IPC, copied across the context bridge and turned back by withApiErrors) and the
// browser build's (the WebSocket client against the real loopback web host, uploads included).
// The same calls must reach the back end with the same arguments, import options included.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ExitlaneApi, ImportOptions, RequestOf, Channel } from "./contract.js";
import { createDispatcher } from "./dispatch.js";
import { IPC_EVENT } from "./ipc-channels.js";
import { registerIpc } from "./ipc.js";
import { buildApi, forContextBridge } from "./preload-api.js";
import { createEventBus } from "./services/event-bus.js";
import type { ImportRequest } from "./services/import-jobs.js";
import { recordingHandlers } from "./test-support/recording-handlers.js";
import { startWebHost, type WebHost } from "./web-host.js";
import { APP_ORIGIN } from "./app-protocol.js";
import { withApiErrors } from "../renderer/api/createApi";
import { createWsApi, type SocketLike, type WsApi } from "../renderer/api/wsApi";

/** What reached the back end, in the form both transports end in: handler payloads and imports. */
interface BackEnd {
  received: Array<{ channel: string; payload: unknown }>;
  imports: Array<ImportOptions>;
}

/** Calls whose every optional field is set, so a transport that drops one is caught. */
const calls: Array<{ [C in Channel]: [C, RequestOf<C>] }[Channel]> = [
  ["chat.create", { title: "Psalms" }],
  ["chat.list", { query: "grace" }],
  ["chat.update", { id: "c1", systemPrompt: "Be brief.", overflow: "drop-oldest" }],
  ["chat.send", { conversationId: "c1", text: "In the beginning" }],
  ["models.restartImport", { jobId: "j1", quant: "int4" }],
  ["models.select", { id: null }],
  ["downloads.start", { repo: "org/model-GGUF", file: "model-q4_k_m.gguf", quant: "int8" }],
  ["settings.set", { threads: 3, knob: 0.5, server: { enabled: true, port: 4321 } }],
  ["generation.setKnob", { value: 0.25 }],
];
const importOptions: ImportOptions[] = [{}, { quant: "int4" }, { quant: "f16", again: true }];

async function exercise(api: ExitlaneApi): Promise<void> {
  for (const [channel, payload] of calls) await api.request(channel, payload as never);
  for (const options of importOptions)
    await api.importFiles(
      [new File(["GGUF"], "model.gguf")],
      Object.keys(options).length ? options : undefined,
    );
}

function backEnd() {
  const { handlers, received } = recordingHandlers();
  const imports: ImportOptions[] = [];
  const record = (request: ImportRequest) => {
    imports.push({
      ...(request.quant ? { quant: request.quant } : {}),
      ...(request.again ? { again: request.again } : {}),
    });
    return { jobId: `job-${imports.length}` };
  };
  // The desktop app's import handler (services/handlers.ts) hands the path and options to the
  // import jobs; the web host's upload hands the uploaded copy and options to the same call.
  handlers["models.importPath"] = async (payload) => {
    received.push({ channel: "models.importPath", payload });
    return record({ source: payload.path, quant: payload.quant, again: payload.again });
  };
  return {
    state: { received, imports } satisfies BackEnd,
    dispatch: createDispatcher(handlers, { validateReplies: false }),
    startImport: async (request: ImportRequest) => record(request),
  };
}

/** The preload's API over a fake ipcRenderer wired to the real registerIpc, as in the app. */
function ipcTransport(): { api: ExitlaneApi; state: BackEnd } {
  const { state, dispatch } = backEnd();
  let invoke: (event: unknown, ...args: unknown[]) => Promise<unknown> = async () => undefined;
  const listeners: Array<(event: unknown, message: unknown) => void> = [];
  registerIpc({
    ipcMain: { handle: (_channel, fn) => void (invoke = fn as typeof invoke), removeHandler: () => {} },
    dispatch,
    events: createEventBus(),
    sendToWindow: (channel, message) => channel === IPC_EVENT && listeners.forEach((l) => l({}, message)),
  });
  const frame = { senderFrame: { url: `${APP_ORIGIN}/index.html` } };
  const preload = buildApi(
    { invoke: (_ipcChannel, ...args) => invoke(frame, ...args), on: (_c, l) => void listeners.push(l) },
    (file) => `/home/user/Downloads/${file.name}`,
  );
  // What the page gets: the bridge's copy, its rejections turned back into ApiErrors.
  return { api: withApiErrors(forContextBridge(preload)), state };
}

let web: { host: WebHost; api: WsApi; state: BackEnd; dir: string };

beforeAll(async () => {
  const { state, dispatch, startImport } = backEnd();
  const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-transports-"));
  mkdirSync(path.join(dir, "renderer"));
  writeFileSync(path.join(dir, "renderer", "index.html"), "<!doctype html><title>Exitlane</title>");
  const host = await startWebHost({
    dispatch,
    events: createEventBus(),
    rendererDir: path.join(dir, "renderer"),
    uploadRoot: path.join(dir, "uploads"),
    startImport,
  });
  const api = createWsApi({
    url: `ws://127.0.0.1:${host.port}/ws?token=${host.token}`,
    uploadUrl: `${host.origin}/upload?token=${host.token}`,
    // A page of the host's own origin, as the browser build is.
    socketFactory: (url) => new WebSocket(url, { origin: host.origin }) as unknown as SocketLike,
    // The recording back end answers null: this suite is about what goes in, not the replies.
    validate: false,
  });
  web = { host, api, state, dir };
});
afterAll(async () => {
  web?.api.close();
  await web?.host.close();
  if (web) rmSync(web.dir, { recursive: true, force: true });
});

describe("the renderer's API over both transports", () => {
  it("gives the back end the same arguments for the same calls, import options included", async () => {
    const ipc = ipcTransport();
    await exercise(ipc.api);
    await exercise(web.api);

    expect(ipc.state.received.filter((r) => r.channel !== "models.importPath")).toEqual(
      calls.map(([channel, payload]) => ({ channel, payload })),
    );
    expect(web.state.received).toEqual(ipc.state.received.filter((r) => r.channel !== "models.importPath"));
    expect(ipc.state.imports).toEqual(importOptions);
    expect(web.state.imports).toEqual(importOptions);
    // The desktop app imports the dropped file where it is.
    expect(ipc.state.received.filter((r) => r.channel === "models.importPath").map((r) => r.payload)).toEqual(
      importOptions.map((o) => ({ ...o, path: "/home/user/Downloads/model.gguf" })),
    );
  });

  it("rejects a malformed request with the same coded error on both", async () => {
    const ipc = ipcTransport();
    const bad = { title: 42 } as unknown as RequestOf<"chat.create">;
    const failures = await Promise.all(
      [ipc.api, web.api].map((api) =>
        api.request("chat.create", bad).then(
          () => null,
          (error: Error & { code?: string }) => ({ name: error.name, code: error.code }),
        ),
      ),
    );
    expect(failures[0]).toEqual({ name: "ApiError", code: "bad_request" });
    expect(failures[1]).toEqual(failures[0]);
  });
});
