// stories260K imported through the REAL engine host, once, for every back-end test that needs a model.
//
// An import and its calibration take ~30-40 s, so the calibrated package is cached in the temp folder
// under a key made of the fixture's bytes and the engine's own source (formats, tokenizer, convert,
// package, early-exit, runtime, engine, host): any change to how a model is imported makes a new
// import. Test files running in parallel share it through a lock folder (the first one imports,
// the others wait). Each test copies the package into its own models folder, so tests may rename,
// delete or re-import freely.
//
// EXITLANE_TEST_STORIES_MODELS=<models dir> uses a pre-imported models folder instead (it must hold
// exactly one stories260K package).
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stories } from "../../native-models/test-support/shared-fixtures.js";
import { EngineClient } from "../services/engine-client.js";
import { realHostEntry, spawnTsHost } from "./engine.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENGINE_SOURCE_DIRS = [
  "formats",
  "tokenizer",
  "convert",
  "package",
  "early-exit",
  "runtime",
  "engine",
  "host",
];
const LOCK_STALE_MS = 180_000;
/** Another run (say, with other engine sources) may still use its entry for a while. */
const PRUNE_AFTER_MS = 3_600_000;

export interface StoriesPackage {
  /** A models folder holding the one imported package. */
  modelsDir: string;
  modelId: string;
  /** Seconds the import took (0 when it came from the cache). */
  importSeconds: number;
}

/**
 * "native": as the app imports it where the native kernels run (their form alone, one copy of
 * the weights); "onnx": imported with them switched off, onnxruntime's form, which the tests
 * that need a slower engine load.
 */
export type StoriesForm = "native" | "onnx";

const memo = new Map<StoriesForm, Promise<StoriesPackage>>();

/** The cached import of stories260K (f32 GGUF), made through the real engine host on first use. */
export function storiesPackage(form: StoriesForm = "native"): Promise<StoriesPackage> {
  if (!memo.has(form)) memo.set(form, locate(form));
  return memo.get(form)!;
}

/** Copies the imported package into `modelsDir` (created if needed); returns the model id. */
export async function copyStoriesInto(modelsDir: string, form: StoriesForm = "native"): Promise<string> {
  const { modelsDir: from, modelId } = await storiesPackage(form);
  mkdirSync(modelsDir, { recursive: true });
  cpSync(path.join(from, modelId), path.join(modelsDir, modelId), { recursive: true });
  return modelId;
}

async function locate(form: StoriesForm): Promise<StoriesPackage> {
  const given = process.env.EXITLANE_TEST_STORIES_MODELS;
  if (given && form === "native") {
    const ids = readdirSync(given).filter(
      (e) => !e.startsWith(".") && existsSync(path.join(given, e, "manifest.json")),
    );
    if (ids.length !== 1)
      throw new Error(`EXITLANE_TEST_STORIES_MODELS=${given} must hold exactly one model package`);
    return { modelsDir: given, modelId: ids[0], importSeconds: 0 };
  }
  const root = path.join(os.tmpdir(), "exitlane-test-cache");
  const key = cacheKey();
  const dir = path.join(root, form === "native" ? `stories-${key}` : `stories-${form}-${key}`);
  const done = path.join(dir, "done.json");
  const lock = `${dir}.lock`;
  mkdirSync(root, { recursive: true });
  for (;;) {
    if (existsSync(done)) {
      const { modelId } = JSON.parse(readFileSync(done, "utf8")) as { modelId: string };
      return { modelsDir: path.join(dir, "models"), modelId, importSeconds: 0 };
    }
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is importing: wait for them, unless their lock is stale (a killed test run).
      if (Date.now() - mtime(lock) > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      pruneOldEntries(root, key);
      return await importInto(dir, form);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

async function importInto(dir: string, form: StoriesForm): Promise<StoriesPackage> {
  const work = `${dir}.work-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const modelsDir = path.join(work, "models");
  const env = form === "onnx" ? { EXITLANE_NATIVE: "off" } : undefined;
  const engine = new EngineClient({ spawn: spawnTsHost(realHostEntry, env), maxCrashes: 1 });
  const started = Date.now();
  try {
    const { model } = await engine.request("importModel", {
      jobId: "test-cache-import",
      source: stories.gguf,
      modelsDir,
    });
    // Imports commit uncalibrated (the app calibrates as a job of its own afterwards): the tests
    // want the calibrated package, as a user has it a minute after importing.
    await engine.request("calibrate", { jobId: "test-cache-calibrate", modelsDir, modelId: model.id });
    const importSeconds = (Date.now() - started) / 1000;
    writeFileSync(path.join(work, "done.json"), JSON.stringify({ modelId: model.id, importSeconds }));
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    return { modelsDir: path.join(dir, "models"), modelId: model.id, importSeconds };
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  } finally {
    await engine.close();
  }
}

function cacheKey(): string {
  const hash = createHash("sha256");
  const s = statSync(stories.gguf);
  hash.update(`${stories.gguf}:${s.size}:${s.mtimeMs}\n`);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) files.push(p);
    }
  };
  for (const sub of ENGINE_SOURCE_DIRS) {
    const d = path.join(repoRoot, "native-models", sub);
    if (existsSync(d)) walk(d);
  }
  for (const f of files.sort()) {
    hash.update(path.relative(repoRoot, f));
    hash.update(readFileSync(f));
  }
  return hash.digest("hex").slice(0, 16);
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** Imports made by older engine sources (another key) are of no further use once no test run can still be reading them. */
function pruneOldEntries(root: string, key: string): void {
  for (const entry of readdirSync(root)) {
    if (entry.includes(key)) continue;
    const p = path.join(root, entry);
    if (Date.now() - mtime(p) > PRUNE_AFTER_MS) rmSync(p, { recursive: true, force: true });
  }
}
