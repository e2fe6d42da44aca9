// The window loads the UI from `exitlane-app://app/`, a private scheme that serves only the built
// renderer's files, with the app's CSP on every response. Unlike file://, the page can read no
// other file on disk, and it has a real origin for 'self' in the CSP.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { securityHeaders } from "./csp.js";
import { resolveInside } from "./web-static.js";

export const APP_SCHEME = "exitlane-app";
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** Registered before the app is ready: a standard, secure scheme so modules, fetch and CSP 'self' work. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".wasm": "application/wasm",
};

/** The protocol handler: one request in, one response out (tested without Electron). */
export function appProtocolHandler(rendererDir: string) {
  return async (request: { url: string }): Promise<Response> => {
    const url = new URL(request.url);
    const headers = securityHeaders();
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== "app")
      return new Response("Not found", { status: 404, headers });
    const file = resolveInside(rendererDir, url.pathname === "/" ? "/index.html" : url.pathname);
    if (!file) return new Response("Bad path", { status: 400, headers });
    try {
      const body = await readFile(file);
      const type = TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
      return new Response(body, { status: 200, headers: { ...headers, "Content-Type": type } });
    } catch {
      return new Response("Not found", { status: 404, headers });
    }
  };
}
