import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { contentSecurityPolicy } from "./electron/csp.js";

// The renderer is a plain static site: built into dist/renderer with relative URLs (base "./") so the
// same files load from the app:// protocol in Electron and from the loopback web host.

const CSP_META = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/;

/**
 * The page's CSP <meta> tag carries the one policy of electron/csp.ts (the same the Electron window
 * and the web host send as a header). `vite dev` injects inline styles and the React refresh
 * preamble, so the dev server alone gets a relaxed copy; built files keep the strict policy.
 */
function csp(): Plugin {
  return {
    name: "exitlane-csp",
    transformIndexHtml: {
      order: "pre",
      handler(html, ctx) {
        if (!CSP_META.test(html))
          throw new Error("renderer/index.html lost its Content-Security-Policy <meta> tag");
        const strict = contentSecurityPolicy({ meta: true });
        const policy = ctx.server
          ? strict
              .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
              .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
              .replace("connect-src 'self'", "connect-src 'self' ws: http://127.0.0.1:* http://localhost:*")
          : strict;
        return html.replace(CSP_META, `$1${policy}$2`);
      },
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL("./renderer", import.meta.url)),
  base: "./",
  plugins: [react(), csp()],
  build: {
    outDir: fileURLToPath(new URL("./dist/renderer", import.meta.url)),
    emptyOutDir: true,
    target: "chrome120",
    sourcemap: true,
    // No inlined data: URLs for assets.
    assetsInlineLimit: 0,
    // One local bundle (highlight.js grammars, recharts, zod) loaded from disk; size is not a network cost here.
    chunkSizeWarningLimit: 2500,
  },
  server: { host: "127.0.0.1", strictPort: false },
});
