// The Electron main process: lifecycle, one instance, the window, the menu. The back end itself
// (engine host, SQLite, settings, import jobs) is the Electron-free `createBackend`, shared with
// the web host; this file only puts IPC in front of it.
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  screen,
  session,
  shell,
  safeStorage,
  utilityProcess,
} from "electron";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appProtocolHandler } from "./app-protocol.js";
import { forkUtilityHost } from "./engine-process.js";
import { registerIpc } from "./ipc.js";
import { menuTemplate } from "./menu.js";
import { createBackend, type Backend } from "./services/backend.js";
import { createMainWindow, hardenSession, hardenWebContents } from "./window.js";

// Bundled to dist/main/main.cjs: the renderer, preload and engine host sit beside it in dist/
// (from source, electron/main.ts, they are in ../dist).
const here = path.dirname(fileURLToPath(import.meta.url));
const distDir =
  path.basename(here) === "electron" ? path.resolve(here, "..", "dist") : path.resolve(here, "..");

// Must happen before "ready".
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  run();
}

function run(): void {
  let win: BrowserWindow | null = null;
  let backend: Backend | null = null;

  app.on("second-instance", () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on("web-contents-created", (_event, contents) =>
    hardenWebContents(contents, (url) => void shell.openExternal(url)),
  );

  const openWindow = () =>
    createMainWindow({
      BrowserWindow,
      preload: path.join(distDir, "main", "preload.cjs"),
      stateFile: path.join(app.getPath("userData"), "window-state.json"),
      workAreas: screen.getAllDisplays().map((d) => d.workArea),
      icon: path.join(app.getAppPath(), "assets", "icon.png"),
    });

  const choose = async (properties: Array<"openFile" | "openDirectory">, title: string) => {
    const options = { title, properties, filters: properties.includes("openFile") ? MODEL_FILTERS : [] };
    const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  };

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession);
    protocol.handle(APP_SCHEME, appProtocolHandler(path.join(distDir, "renderer")));
    const ready = createBackend({
      userDataDir: app.getPath("userData"),
      engine: { spawn: forkUtilityHost(utilityProcess.fork, path.join(distDir, "engine", "host.cjs")) },
      sqliteNativeBinding: electronSqliteBinding(),
      validate: !app.isPackaged,
      chooseImportPath: (folder) => choose([folder ? "openDirectory" : "openFile"], "Import a model"),
      chooseFolder: () => choose(["openDirectory"], "Choose the models folder"),
      secretCipher: safeStorage,
    });
    backend = ready;
    registerIpc({
      ipcMain,
      dispatch: ready.dispatch,
      events: ready.events,
      sendToWindow: (channel, message) => {
        if (win && !win.isDestroyed()) win.webContents.send(channel, message);
      },
    });
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(process.platform, (command) => ready.events.emit("app.command", { command })),
      ),
    );
    win = openWindow();
    app.on("activate", () => {
      if (BrowserWindow.getAllWindows().length === 0) win = openWindow();
    });
  });

  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });

  // Flush streamed tokens and stop the engine host before the process ends.
  app.on("before-quit", (event) => {
    if (!backend) return;
    event.preventDefault();
    const closing = backend;
    backend = null;
    void closing.close().finally(() => app.quit());
  });
}

const MODEL_FILTERS = [
  { name: "Models (GGUF, llama2.c)", extensions: ["gguf", "bin"] },
  { name: "All files", extensions: ["*"] },
];

/**
 * better-sqlite3 is compiled per ABI: Node's build serves the tests and the web host, an Electron
 * build (made by `npm run prepare:electron`, shipped in resources/native by electron-builder) serves
 * the app. Falls back to node_modules when none was made.
 */
function electronSqliteBinding(): string | undefined {
  const candidates = app.isPackaged
    ? [path.join(process.resourcesPath, "native", "better_sqlite3.node")]
    : [path.join(app.getAppPath(), ".cache", "electron-native", "better_sqlite3.node")];
  return candidates.find((candidate) => existsSync(candidate));
}
