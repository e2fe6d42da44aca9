// `npm run prepare:electron`: builds better-sqlite3 for Electron's ABI into
// node_modules/.cache/electron-native/better_sqlite3.node, without touching node_modules' own
// build (which stays compiled for Node: the tests, the web host and the CLI use it).
// The app loads this copy through better-sqlite3's `nativeBinding` option (electron/main.ts), and
// electron-builder ships it as resources/native/better_sqlite3.node.
//
// Needs what any native rebuild needs: Electron's headers (downloaded once by @electron/rebuild)
// or a matching prebuilt binary, so run it on a machine with internet access. onnxruntime-node is
// an N-API module and needs no rebuild.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { root } from "./build.js";

const cacheDir = path.join(root, "node_modules", ".cache", "electron-native");
const output = path.join(cacheDir, "better_sqlite3.node");
const stampFile = path.join(cacheDir, "built-for.json");

const version = (pkg: string) =>
  (
    JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

async function main() {
  const wanted = {
    electron: version("electron"),
    betterSqlite3: version("better-sqlite3"),
    platform: process.platform,
    arch: process.arch,
  };
  if (
    existsSync(output) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, "utf8") === JSON.stringify(wanted)
  ) {
    console.log(`prepare:electron: better-sqlite3 for Electron ${wanted.electron} is ready`);
    return;
  }
  // Rebuild a private copy of the package, so node_modules/better-sqlite3 keeps its Node build.
  const work = path.join(cacheDir, "work");
  rmSync(work, { recursive: true, force: true });
  const copy = path.join(work, "node_modules", "better-sqlite3");
  mkdirSync(path.dirname(copy), { recursive: true });
  cpSync(path.join(root, "node_modules", "better-sqlite3"), copy, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}build${path.sep}`),
  });
  writeFileSync(
    path.join(work, "package.json"),
    JSON.stringify({
      name: "electron-native",
      private: true,
      dependencies: { "better-sqlite3": wanted.betterSqlite3 },
    }),
  );

  const { rebuild } = await import("@electron/rebuild");
  console.log(
    `prepare:electron: building better-sqlite3 ${wanted.betterSqlite3} for Electron ${wanted.electron} (${process.platform}-${process.arch})…`,
  );
  await rebuild({
    buildPath: work,
    electronVersion: wanted.electron,
    arch: process.arch,
    onlyModules: ["better-sqlite3"],
    force: true,
  });

  cpSync(path.join(copy, "build", "Release", "better_sqlite3.node"), output);
  writeFileSync(stampFile, JSON.stringify(wanted));
  rmSync(work, { recursive: true, force: true });
  console.log(`prepare:electron: wrote ${path.relative(root, output)}`);
}

main().catch((error) => {
  console.error(`prepare:electron failed: ${error instanceof Error ? error.message : error}`);
  console.error(
    "It needs Electron's headers or a prebuilt better-sqlite3 for Electron; run it once with internet access.",
  );
  process.exit(1);
});
