// `npm run build`: the renderer (Vite) and the Node/Electron bundles (esbuild) into dist/.
//
//   dist/renderer/            the UI (static files)
//   dist/main/main.cjs        Electron main process
//   dist/main/preload.cjs     Electron preload (sandboxed: bundles everything but `electron`)
//   dist/main/web.cjs         loopback web host (plain Node)
//   dist/engine/host.cjs      engine host process (utilityProcess / child process)
//   dist/cli/cli.mjs          headless CLI (ES module: it uses top-level await); `npm run cli` runs it
//   dist/cli/bench-worker.mjs one `bench` run in a process of its own
//
// Native modules stay outside the bundles and load from node_modules at run time.
// `--if-needed` skips the build when every output is newer than every source file.
import { build as esbuild, type BuildOptions } from "esbuild";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Loaded from node_modules at run time: native addons (and Electron itself). */
export const external = ["electron", "onnxruntime-node", "better-sqlite3", "*.node", "node-llama-cpp"];

interface Bundle {
  entry: string;
  out: string;
  /** The sandboxed preload may only require `electron`: build it for the browser so a Node import fails the build. */
  platform: "node" | "browser";
  format?: "cjs" | "esm";
}

export const bundles: Bundle[] = [
  { entry: "electron/main.ts", out: "dist/main/main.cjs", platform: "node" },
  { entry: "electron/preload.ts", out: "dist/main/preload.cjs", platform: "browser" },
  { entry: "electron/web-host-cli.ts", out: "dist/main/web.cjs", platform: "node" },
  { entry: "native-models/host/main.ts", out: "dist/engine/host.cjs", platform: "node" },
  { entry: "electron/cli.ts", out: "dist/cli/cli.mjs", platform: "node", format: "esm" },
  {
    entry: "native-models/bench/bench-worker.ts",
    out: "dist/cli/bench-worker.mjs",
    platform: "node",
    format: "esm",
  },
];

const rendererOutput = "dist/renderer/index.html";
const sourceDirs = ["electron", "native-models", "renderer", "wire"];
const sourceFiles = ["vite.config.ts", "package.json", "scripts/build.ts"];

export async function buildBundles(): Promise<void> {
  await Promise.all(bundles.map((bundle) => esbuild(bundleOptions(bundle))));
}

function bundleOptions(bundle: Bundle): BuildOptions {
  const common: BuildOptions = {
    entryPoints: [path.join(root, bundle.entry)],
    outfile: path.join(root, bundle.out),
    bundle: true,
    sourcemap: true,
    logLevel: "warning",
  };
  if (bundle.platform === "browser")
    return { ...common, format: "cjs", platform: "browser", target: "chrome120", external: ["electron"] };
  if (bundle.format === "esm") {
    // Bundled CommonJS dependencies still call require(); give the module one.
    const banner =
      'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);';
    return { ...common, format: "esm", platform: "node", target: "node20", external, banner: { js: banner } };
  }
  return {
    ...common,
    format: "cjs",
    platform: "node",
    target: "node20",
    external,
    // ESM sources may use import.meta.url; in a CommonJS bundle it is this file's URL.
    banner: { js: 'const __importMetaUrl = require("url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__importMetaUrl" },
  };
}

export async function buildRenderer(): Promise<void> {
  const { build } = await import("vite");
  await build({ configFile: path.join(root, "vite.config.ts"), logLevel: "warn" });
}

function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    const info = statSync(p);
    if (info.isDirectory()) {
      for (const name of readdirSync(p))
        if (name !== "node_modules" && !name.startsWith(".")) visit(path.join(p, name));
    } else if (/\.(tsx?|css|html|json|svg|png)$/.test(p) && !/\.test\.tsx?$/.test(p))
      newest = Math.max(newest, info.mtimeMs);
  };
  for (const dir of sourceDirs) if (existsSync(path.join(root, dir))) visit(path.join(root, dir));
  for (const file of sourceFiles)
    if (existsSync(path.join(root, file))) newest = Math.max(newest, statSync(path.join(root, file)).mtimeMs);
  return newest;
}

export function isUpToDate(): boolean {
  const outputs = [...bundles.map((b) => b.out), rendererOutput].map((o) => path.join(root, o));
  if (!outputs.every(existsSync)) return false;
  const oldestOutput = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  return oldestOutput >= newestSource();
}

async function main() {
  const ifNeeded = process.argv.includes("--if-needed");
  if (ifNeeded && isUpToDate()) {
    // Diagnostics go to stderr: `npm run cli -- … --json` prints nothing else on stdout.
    console.error("build: dist/ is up to date");
    return;
  }
  const started = Date.now();
  await Promise.all([buildBundles(), buildRenderer()]);
  console.error(`build: dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
