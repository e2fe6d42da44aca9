// Runs in the sandboxed preload: exposes exactly one object, `window.exitlane`, built from the
// contract. The page gets no ipcRenderer, no Node, and no way to name a file path itself.
import { contextBridge, ipcRenderer, webUtils } from "electron";
import { buildApi, forContextBridge } from "./preload-api.js";

contextBridge.exposeInMainWorld(
  "exitlane",
  forContextBridge(buildApi(ipcRenderer, (file) => webUtils.getPathForFile(file))),
);
