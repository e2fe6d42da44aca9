import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The renderer is a plain static site: built into dist/renderer with relative URLs (base "./") so the
// same files load from file:// in Electron and from the loopback web host.

/**
 * `vite dev` injects inline styles and the React refresh preamble, which the page's strict CSP would
 * block; relax it in the dev server only. The built files keep the strict policy untouched.
 */
function devCsp(): Plugin {
  return {
    name: "exitlane-dev-csp",
    apply: "serve",
    transformIndexHtml(html) {
      return html
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws: http://127.0.0.1:* http://localhost:*");
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL("./renderer", import.meta.url)),
  base: "./",
  plugins: [react(), devCsp()],
  build: {
    outDir: fileURLToPath(new URL("./dist/renderer", import.meta.url)),
    emptyOutDir: true,
    target: "chrome120",
    sourcemap: true,
    // No inlined data: URLs for assets bigger than this (the CSP allows data: images only).
    assetsInlineLimit: 0,
    // One local bundle (highlight.js grammars, recharts, zod) loaded from disk; size is not a network cost here.
    chunkSizeWarningLimit: 2500,
  },
  server: { host: "127.0.0.1", strictPort: false },
});
