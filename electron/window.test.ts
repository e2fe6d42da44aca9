import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserWindowConstructorOptions } from "electron";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { APP_URL } from "./app-protocol.js";
import { contentSecurityPolicy } from "./csp.js";
import {
  createMainWindow,
  hardenSession,
  hardenWebContents,
  isAllowedRequest,
  secureWebPreferences,
} from "./window.js";
import { saveWindowState } from "./window-state.js";

vi.mock("electron", () => ({}));

class FakeWindow extends EventEmitter {
  static created: FakeWindow[] = [];
  loaded: string | null = null;
  maximized = false;
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeWindow.created.push(this);
  }
  loadURL(url: string) {
    this.loaded = url;
    return Promise.resolve();
  }
  maximize() {
    this.maximized = true;
  }
  isMaximized = () => this.maximized;
  isMinimized = () => false;
  isDestroyed = () => false;
  getNormalBounds = () => ({ x: 10, y: 20, width: 1000, height: 700 });
  show = vi.fn();
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-window-"));
  FakeWindow.created = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
const open = () =>
  createMainWindow({
    BrowserWindow: FakeWindow as never,
    preload: "/app/preload.cjs",
    stateFile: path.join(dir, "window-state.json"),
    workAreas: screen,
  });

describe("the main window", () => {
  it("is isolated, sandboxed and without Node", () => {
    open();
    const prefs = FakeWindow.created[0].options.webPreferences!;
    expect(prefs).toMatchObject({
      preload: "/app/preload.cjs",
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    expect(secureWebPreferences("p")).toEqual({ ...prefs, preload: "p" });
  });

  it("loads the app from its private scheme", () => {
    open();
    expect(FakeWindow.created[0].loaded).toBe(APP_URL);
    expect(APP_URL).toBe("exitlane-app://app/index.html");
  });

  it("remembers its bounds and restores them", () => {
    const win = open();
    win.emit("close");
    expect(JSON.parse(readFileSync(path.join(dir, "window-state.json"), "utf8"))).toEqual({
      x: 10,
      y: 20,
      width: 1000,
      height: 700,
      maximized: false,
    });
    open();
    expect(FakeWindow.created[1].options).toMatchObject({ x: 10, y: 20, width: 1000, height: 700 });
  });

  it("forgets a position that is no longer on any screen, and restores maximized", () => {
    saveWindowState(path.join(dir, "window-state.json"), {
      x: 5000,
      y: 5000,
      width: 900,
      height: 600,
      maximized: true,
    });
    open();
    expect(FakeWindow.created[0].options).toMatchObject({
      x: undefined,
      y: undefined,
      width: 900,
      height: 600,
    });
    expect(FakeWindow.created[0].maximized).toBe(true);
  });
});

describe("hardenWebContents", () => {
  function fakeContents() {
    const contents = new EventEmitter() as EventEmitter & {
      setWindowOpenHandler: (h: (d: { url: string }) => unknown) => void;
      openHandler?: (d: { url: string }) => unknown;
    };
    contents.setWindowOpenHandler = (h) => (contents.openHandler = h);
    return contents;
  }
  const attempt = (contents: EventEmitter, name: string, url: string) => {
    const event = { preventDefault: vi.fn() };
    contents.emit(name, event, url);
    return event.preventDefault.mock.calls.length > 0 ? "blocked" : "allowed";
  };

  it("blocks navigation and redirects away from the app", () => {
    const contents = fakeContents();
    hardenWebContents(contents as never);
    expect(attempt(contents, "will-navigate", "https://evil.example/")).toBe("blocked");
    expect(attempt(contents, "will-navigate", "file:///etc/passwd")).toBe("blocked");
    expect(attempt(contents, "will-navigate", "exitlane-app://app.evil/x")).toBe("blocked");
    expect(attempt(contents, "will-redirect", "http://127.0.0.1:1/")).toBe("blocked");
    expect(attempt(contents, "will-navigate", "exitlane-app://app/index.html")).toBe("allowed");
    expect(attempt(contents, "will-attach-webview", "")).toBe("blocked");
  });

  it("denies every new window and hands web links to the system browser", () => {
    const contents = fakeContents();
    const openExternal = vi.fn();
    hardenWebContents(contents as never, openExternal);
    expect(contents.openHandler!({ url: "https://example.com/doc" })).toEqual({ action: "deny" });
    expect(contents.openHandler!({ url: "file:///etc/passwd" })).toEqual({ action: "deny" });
    expect(openExternal).toHaveBeenCalledExactlyOnceWith("https://example.com/doc");
  });
});

describe("hardenSession", () => {
  it("denies permissions, blocks remote requests and adds the CSP header", () => {
    const handlers: Record<string, (...args: never[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (h: never) => (handlers.request = h),
      setPermissionCheckHandler: (h: never) => (handlers.check = h),
      setDevicePermissionHandler: (h: never) => (handlers.device = h),
      webRequest: {
        onBeforeRequest: (h: never) => (handlers.before = h),
        onHeadersReceived: (h: never) => (handlers.headers = h),
      },
    };
    hardenSession(session as never);
    const granted = vi.fn();
    (handlers.request as (...a: unknown[]) => void)({}, "media", granted);
    expect(granted).toHaveBeenCalledWith(false);
    expect((handlers.check as () => boolean)()).toBe(false);
    const decide = (url: string) => {
      let cancel: boolean | undefined;
      (handlers.before as (...a: unknown[]) => void)(
        { url },
        (r: { cancel: boolean }) => (cancel = r.cancel),
      );
      return cancel;
    };
    expect(decide("https://cdn.example/lib.js")).toBe(true);
    expect(decide("http://127.0.0.1:8080/")).toBe(true);
    expect(decide("file:///home/user/.ssh/id_rsa")).toBe(true);
    expect(decide("exitlane-app://app/assets/index.js")).toBe(false);
    let headers: Record<string, string[]> = {};
    (handlers.headers as (...a: unknown[]) => void)(
      { responseHeaders: { a: ["b"] } },
      (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders),
    );
    expect(headers["Content-Security-Policy"]).toEqual([contentSecurityPolicy()]);
    expect(isAllowedRequest("data:image/png;base64,AA")).toBe(true);
  });
});
