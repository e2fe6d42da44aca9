// Where the built addon is, for every way the engine runs. One place knows these layouts:
//
//   from source (tsx, vitest)   native-models/kernels/index.ts
//                               -> native-models/kernels/addon/build/Release/<addon>
//   a bundle in dist/           dist/<bundle>/<file>  (import.meta.url is the bundle's)
//                               -> native-models/kernels/addon/build/Release/<addon>, from the root
//   a packaged app              resources/app.asar/dist/<bundle>/<file>
//                               -> resources/app.asar.unpacked/native-models/kernels/addon/build/Release/<addon>
//
// electron-builder copies the addon into the asar at its repository path and, as for every
// `*.node` (asarUnpack), writes the real file beside the archive in app.asar.unpacked: a shared
// library cannot be mapped from inside an archive, and plain Node cannot read into one at all, so
// the unpacked copy is the one to load on every platform.
import path from "node:path";

export const ADDON_FILE = "exitlane_native.node";
/** The addon's path from the repository root (and from the root of app.asar). */
export const ADDON_FROM_ROOT = path.join("native-models", "kernels", "addon", "build", "Release", ADDON_FILE);

/**
 * Paths to try, best first, for a loader module in `moduleDir` (the folder of index.ts, or of the
 * bundle it was built into) and the process's working directory.
 */
export function addonCandidates(moduleDir: string, cwd: string): string[] {
  const candidates = [
    // From source: the build folder sits beside index.ts.
    path.join(moduleDir, "addon", "build", "Release", ADDON_FILE),
    // A bundle in <root>/dist/<bundle>/: two folders up is the root (of the repository or the asar).
    path.join(moduleDir, "..", "..", ADDON_FROM_ROOT),
    // A script run from the repository root whose bundle lives elsewhere.
    path.join(cwd, ADDON_FROM_ROOT),
  ].map((p) => path.resolve(p));
  return [...new Set(candidates.map(unpackedPath))];
}

/** A path inside `app.asar` as electron-builder unpacks it (other paths are returned as they are). */
export function unpackedPath(file: string): string {
  const parts = file.split(path.sep);
  const i = parts.indexOf("app.asar");
  if (i < 0) return file;
  parts[i] = "app.asar.unpacked";
  return parts.join(path.sep);
}
