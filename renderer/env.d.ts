/// <reference types="vite/client" />
import type { ExitlaneApi } from "../electron/contract";

declare global {
  interface Window {
    /** Set by Electron's preload; absent in the browser build. */
    exitlane?: ExitlaneApi;
  }
}

export {};
