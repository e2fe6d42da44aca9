// The main process with the whole `electron` module mocked: lifecycle, single instance, the
// private scheme, the window, IPC and the engine host as a (fake) utility process.
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IPC_REQUEST } from "./ipc-channels.js";

const info = {
  onnxruntimeVersion: "1.30.0",
  executionProviders: [{ name: "cpu", bundled: true }],
  cpu: { model: "Test CPU", cores: 4, simd: ["avx2"], arch: "x64" },
  totalMemoryBytes: 1024,
  platform: "linux",
  nativeKernels: { available: false, kernels: [], detail: "not built" },
  hostPid: 4242,
};

function fakeElectron(userData: string, { lock = true } = {}) {
  const appEvents = new EventEmitter();
  const calls: string[] = [];
  const windows: Array<{ options: { webPreferences: Record<string, unknown> }; url?: string }> = [];
  const handlers = new Map<string, (...a: unknown[]) => Promise<unknown>>();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));

  class BrowserWindow extends EventEmitter {
    static getAllWindows = () => windows;
    webContents = { send: vi.fn() };
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      windows.push(this);
    }
    loadURL(url: string) {
      (this as { url?: string }).url = url;
      return Promise.resolve();
    }
    maximize() {}
    isDestroyed = () => false;
  }

  // A utility process that speaks the engine host protocol.
  const fork = vi.fn(() => {
    const child = new EventEmitter() as EventEmitter & {
      pid: number;
      postMessage(m: unknown): void;
      kill(): void;
    };
    child.pid = 4242;
    child.postMessage = (m) => {
      const { id, method } = m as { id: number; method: string };
      setTimeout(() =>
        child.emit(
          "message",
          method === "info"
            ? { id, ok: true, result: info }
            : { id, ok: false, error: { code: "not_implemented", message: "no" } },
        ),
      );
    };
    child.kill = () => setTimeout(() => child.emit("exit", 0));
    setTimeout(() => child.emit("message", { event: "ready", protocol: 1, pid: 4242, methods: ["info"] }));
    return child;
  });

  const electron = {
    app: {
      requestSingleInstanceLock: () => lock,
      quit: vi.fn(() => calls.push("quit")),
      on: (name: string, l: (...a: unknown[]) => void) => appEvents.on(name, l),
      whenReady: () => ready,
      getPath: () => userData,
      getAppPath: () => "/app",
      isPackaged: false,
    },
    BrowserWindow,
    dialog: { showOpenDialog: vi.fn() },
    ipcMain: { handle: (c: string, h: never) => handlers.set(c, h), removeHandler: vi.fn() },
    Menu: { setApplicationMenu: vi.fn(), buildFromTemplate: (t: unknown) => t },
    protocol: {
      registerSchemesAsPrivileged: vi.fn(() => calls.push("registerSchemes")),
      handle: vi.fn(() => calls.push("protocol.handle")),
    },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        setDevicePermissionHandler: vi.fn(),
        webRequest: { onBeforeRequest: vi.fn(), onHeadersReceived: vi.fn() },
      },
    },
    shell: { openExternal: vi.fn() },
    safeStorage: { isEncryptionAvailable: () => false, encryptString: vi.fn(), decryptString: vi.fn() },
    utilityProcess: { fork },
  };
  return { electron, appEvents, calls, windows, handlers, fork, resolveReady };
}

let userData: string;
beforeEach(() => {
  userData = mkdtempSync(path.join(os.tmpdir(), "exitlane-main-"));
  vi.resetModules();
});
afterEach(() => {
  vi.doUnmock("electron");
  rmSync(userData, { recursive: true, force: true });
});

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("electron/main", () => {
  it("quits at once when another instance holds the lock", async () => {
    const fake = fakeElectron(userData, { lock: false });
    vi.doMock("electron", () => fake.electron);
    await import("./main.js");
    expect(fake.calls).toEqual(["registerSchemes", "quit"]);
    expect(fake.windows).toEqual([]);
  });

  it("starts the back end, the secure window and IPC, with the engine in a utility process", async () => {
    const fake = fakeElectron(userData);
    vi.doMock("electron", () => fake.electron);
    await import("./main.js");
    expect(fake.calls).toEqual(["registerSchemes"]);
    fake.resolveReady();
    await settle();
    expect(fake.calls).toEqual(["registerSchemes", "protocol.handle"]);
    expect(fake.windows).toHaveLength(1);
    expect(fake.windows[0].url).toBe("exitlane-app://app/index.html");
    expect(fake.windows[0].options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });
    expect(String(fake.windows[0].options.webPreferences.preload)).toMatch(/dist[\\/]main[\\/]preload\.cjs$/);
    expect((fake.fork.mock.calls[0] as unknown[])[0]).toMatch(/dist[\\/]engine[\\/]host\.cjs$/);

    const request = fake.handlers.get(IPC_REQUEST)!;
    const sender = { senderFrame: { url: "exitlane-app://app/index.html" } };
    await expect(request(sender, "engine.info", {})).resolves.toEqual({ ok: true, result: info });
    await expect(request(sender, "engine.info", { x: 1 })).resolves.toMatchObject({
      ok: false,
      error: { code: "bad_request" },
    });

    // Quitting waits for the back end to close (tokens flushed, engine stopped), then quits.
    const quitEvent = { preventDefault: vi.fn() };
    fake.appEvents.emit("before-quit", quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
    await settle();
    expect(fake.calls.at(-1)).toBe("quit");
  });
});
