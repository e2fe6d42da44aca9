// The main window and the rules every web page in the app lives under: isolated, sandboxed, no
// Node, no navigation away, no new windows, no permissions, no remote content, strict CSP.
// Electron's classes are passed in, so tests can check all of it with fakes.
import type {
  BrowserWindow,
  BrowserWindowConstructorOptions,
  Session,
  WebContents,
  WebPreferences,
} from "electron";
import { APP_ORIGIN, APP_SCHEME, APP_URL } from "./app-protocol.js";
import { contentSecurityPolicy } from "./csp.js";
import { loadWindowState, saveWindowState, type Rect } from "./window-state.js";

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    // A file dropped outside the drop zone must not replace the app with the file.
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/** True for URLs of the app itself; everything else is foreign. */
export function isAppUrl(url: string | undefined): boolean {
  return url === APP_ORIGIN || Boolean(url?.startsWith(`${APP_ORIGIN}/`));
}

/** Requests a page may make: the app's own files, devtools, and in-memory data/blob URLs. */
export function isAllowedRequest(url: string): boolean {
  return (
    url.startsWith(`${APP_SCHEME}://app/`) ||
    url.startsWith("devtools://") ||
    url.startsWith("data:") ||
    url.startsWith("blob:")
  );
}

/** Applied to every WebContents the app creates (app.on("web-contents-created")). */
export function hardenWebContents(contents: WebContents, openExternal?: (url: string) => void): void {
  contents.on("will-navigate", (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on("will-redirect", (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links in answers open in the user's browser, never inside the app.
    if (openExternal && /^https?:\/\//.test(url)) openExternal(url);
    return { action: "deny" };
  });
}

export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler?.(() => false);
  session.webRequest.onBeforeRequest((details, callback) =>
    callback({ cancel: !isAllowedRequest(details.url) }),
  );
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, "Content-Security-Policy": [contentSecurityPolicy()] },
    });
  });
}

export interface MainWindowOptions {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  preload: string;
  stateFile: string;
  workAreas: Rect[];
  icon?: string;
}

export function createMainWindow({
  BrowserWindow: Window,
  preload,
  stateFile,
  workAreas,
  icon,
}: MainWindowOptions): BrowserWindow {
  const state = loadWindowState(stateFile, workAreas);
  const win = new Window({
    x: state.x,
    y: state.y,
    width: state.width,
    height: state.height,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: "Exitlane",
    backgroundColor: "#111318",
    icon,
    webPreferences: secureWebPreferences(preload),
  });
  if (state.maximized) win.maximize();
  win.once("ready-to-show", () => win.show());

  const remember = () => {
    if (win.isDestroyed() || win.isMinimized()) return;
    const bounds = win.getNormalBounds();
    saveWindowState(stateFile, { ...bounds, maximized: win.isMaximized() });
  };
  let timer: NodeJS.Timeout | undefined;
  const rememberSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(remember, 500);
  };
  win.on("resize", rememberSoon);
  win.on("move", rememberSoon);
  win.on("close", () => {
    clearTimeout(timer);
    remember();
  });

  void win.loadURL(APP_URL);
  return win;
}
