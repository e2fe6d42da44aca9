// The models folder: one sub-folder per imported model (named by its id), plus temporary
// `.partial-*` folders of imports in progress, which never count as models.
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile, access } from "node:fs/promises";
import path from "node:path";
import { Manifest, upgradeManifest } from "./manifest.js";

export const PARTIAL_PREFIX = ".partial-";

export const OWNER_FILE = ".owner";

/** A temporary package folder, marked with the pid of the process writing it. */
export async function packageTempDir(modelsDir: string, id: string): Promise<string> {
  await mkdir(modelsDir, { recursive: true });
  const dir = await mkdtemp(path.join(modelsDir, `${PARTIAL_PREFIX}${id}-`));
  await writeFile(path.join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/** True while the process that created a temporary folder still runs (another import, say). */
async function ownerAlive(dir: string): Promise<boolean> {
  try {
    return processAlive(Number(await readFile(path.join(dir, OWNER_FILE), "utf8")));
  } catch {
    return false;
  }
}

/** Another process with this pid still runs (this process counts as gone: it is the one cleaning). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Files a package's writers stage beside their target (`<name>.<pid>.tmp`) before renaming over it. */
const STAGED_FILE = /\.(\d+)\.tmp$/;

export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return slug || "model";
}

export async function uniqueModelId(modelsDir: string, name: string, quant: string): Promise<string> {
  const base = `${slugify(name)}-${quant}`;
  for (let i = 1; ; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    try {
      await access(path.join(modelsDir, id));
    } catch {
      return id;
    }
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  const raw = await readFile(path.join(dir, "manifest.json"), "utf8");
  return Manifest.parse(upgradeManifest(JSON.parse(raw)));
}

/** Every complete model package; folders without a valid manifest are skipped (and reported). */
export async function listPackages(modelsDir: string): Promise<{ models: Manifest[]; invalid: string[] }> {
  let entries: string[];
  try {
    entries = await readdir(modelsDir);
  } catch {
    return { models: [], invalid: [] };
  }
  const models: Manifest[] = [];
  const invalid: string[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith(".")) continue;
    try {
      models.push(await readManifest(path.join(modelsDir, entry)));
    } catch {
      invalid.push(entry);
    }
  }
  return { models, invalid };
}

/** An import of a source file the library already holds in the same quantization. */
export class AlreadyImportedError extends Error {
  override readonly name = "AlreadyImportedError";
  constructor(
    readonly modelId: string,
    readonly modelName: string,
  ) {
    super(`this file is already in the library as "${modelName}" (${modelId}), in the same quantization`);
  }
}

/** The package made from the source with this hash (SourceHash.xxh128), in this quantization, if there is one. */
export async function findBySource(
  modelsDir: string,
  xxh128: string,
  quant: string,
): Promise<Manifest | null> {
  const { models } = await listPackages(modelsDir);
  return models.find((m) => m.source.xxh128 === xxh128 && m.quant === quant) ?? null;
}

/**
 * Removes what interrupted imports and package updates left behind (run at start-up). What
 * another running process is writing (a CLI import or calibration into the same folder) is left alone.
 */
export async function cleanPartialPackages(modelsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(modelsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries.filter((x) => x.startsWith(PARTIAL_PREFIX))) {
    const dir = path.join(modelsDir, e);
    if (await ownerAlive(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(e);
  }
  // A package's own files are replaced by write-beside-then-rename (manifest, calibration): a
  // writer killed between the two leaves its staged file, which is never part of the package.
  for (const e of entries.filter((x) => !x.startsWith("."))) {
    let files: string[];
    try {
      files = await readdir(path.join(modelsDir, e));
    } catch {
      continue; // not a folder
    }
    for (const f of files) {
      const pid = STAGED_FILE.exec(f)?.[1];
      if (pid === undefined || processAlive(Number(pid))) continue;
      await rm(path.join(modelsDir, e, f), { force: true });
      removed.push(path.join(e, f));
    }
  }
  return removed;
}

/** Resolves `idOrPath` to a package folder: a folder path holding manifest.json, or an id in modelsDir. */
export async function resolvePackage(modelsDir: string, idOrPath: string): Promise<string> {
  for (const candidate of [idOrPath, path.join(modelsDir, idOrPath)]) {
    try {
      await access(path.join(candidate, "manifest.json"));
      return path.resolve(candidate);
    } catch {
      // try the next
    }
  }
  throw new Error(`no model "${idOrPath}" (not a package folder, and not an id in ${modelsDir})`);
}

export async function renamePackage(modelsDir: string, id: string, name: string): Promise<Manifest> {
  const dir = path.join(modelsDir, id);
  const m = await readManifest(dir);
  m.name = name;
  await writeManifest(dir, m);
  return m;
}

/** Atomic manifest update: write beside, then rename over. */
export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  const tmp = path.join(dir, `manifest.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(m, null, 2));
  await rename(tmp, path.join(dir, "manifest.json"));
}

/** Deletes a package: first renamed out of the library (atomic), then removed. */
export async function deletePackage(modelsDir: string, id: string): Promise<void> {
  const dir = path.join(modelsDir, id);
  await readManifest(dir);
  const doomed = path.join(modelsDir, `${PARTIAL_PREFIX}deleted-${id}-${Date.now()}`);
  await rename(dir, doomed);
  await rm(doomed, { recursive: true, force: true });
}
