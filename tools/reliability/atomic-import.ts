// Atomic import: SIGKILL an import at random moments, many times, and check after each kill that
//   - the library lists only complete models (every file of each manifest present, sizes adding up;
//     a calibration, which the app runs as a job of its own after the commit, whole or absent),
//   - no `.partial-*` temporary folder is left once an engine has looked at the folder again,
//   - the source file is byte for byte what it was (sha256).
// Two ways to be killed: the app's engine host in the middle of models.importPath (the back end
// restarts it), or a CLI `import` process (then a fresh engine host is started to look).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { EventOf, ImportJob, ModelSummary } from "../../electron/contract.js";
import { rng } from "../../native-models/test-support/ggml-blocks.js";
import { readManifest } from "../../native-models/package/models-dir.js";
import { stories } from "../../native-models/test-support/shared-fixtures.js";
import { EngineClient } from "../../electron/services/engine-client.js";
import { realHostEntry, spawnTsHost } from "../../electron/test-support/engine.js";
import { startRealBackend, type RealBackend } from "../../electron/test-support/real-backend.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PARTIAL = ".partial-";

export interface ImportKillRound {
  round: number;
  mode: "engine-host" | "cli";
  /** The last progress the killed process reported, and when the kill came after the start. */
  killedAt: string;
  killMs: number;
  /** How the job ended as the back end saw it (engine-host mode). */
  jobState?: ImportJob["state"];
  jobError?: string;
  /** `.partial-*` folders the kill left behind (before the engine looked again). */
  partialsLeft: number;
  /** After the restart. */
  partialsAfter: number;
  listed: string[];
  incomplete: string[];
  strays: string[];
  sourceUnchanged: boolean;
  /** CLI mode: the process ended by itself with this non-zero status (it failed, it was not killed). */
  cliFailed?: number;
}

export interface ImportKillReport {
  rounds: ImportKillRound[];
  /** Rounds after which every check held. */
  survived: number;
  /** Models that the kills left complete and listed (an import killed after its commit). */
  completedImports: number;
  /** The models listed at the end generate text. */
  finalGeneration: Array<{ modelId: string; tokens: number }>;
  ms: number;
}

export interface ImportKillOptions {
  /** Kills of the app's engine host. */
  engineKills: number;
  /** Kills of CLI import processes. */
  cliKills: number;
  seed?: number;
  /** Of the engine kills, every Nth comes late in calibration or right at the commit (slow: ~15 s each). */
  lateEvery?: number;
  /** Engine kills come within this many ms of the import's first progress (default 2500). */
  earlyWindowMs?: number;
  log?: (line: string) => void;
}

export async function runImportKills(o: ImportKillOptions): Promise<ImportKillReport> {
  const started = performance.now();
  const r = rng(o.seed ?? 1);
  const log = o.log ?? (() => {});
  const work = path.join(os.tmpdir(), `exitlane-atomic-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  const source = path.join(work, "stories260K-f32.gguf");
  copyFileSync(stories.gguf, source);
  const sourceSha = sha256(source);
  const rounds: ImportKillRound[] = [];
  const b = await startRealBackend({
    select: false,
    engine: { maxCrashes: 1_000_000, restartDelaysMs: [20] },
  });
  try {
    await b.backend.services.engine.start();
    for (let i = 0; i < o.engineKills; i++) {
      const late = o.lateEvery ? i % o.lateEvery === o.lateEvery - 1 : false;
      const round = await killEngineDuringImport(b, source, sourceSha, i, r, late, o.earlyWindowMs ?? 2500);
      rounds.push(round);
      log(describe(round));
    }
    for (let i = 0; i < o.cliKills; i++) {
      const round = await killCliImport(b.modelsDir, source, sourceSha, o.engineKills + i, r);
      rounds.push(round);
      log(describe(round));
    }
    // Whatever survived must still work: load every listed model and generate with it.
    const finalGeneration: ImportKillReport["finalGeneration"] = [];
    for (const model of await b.call<ModelSummary[]>("models.list", {})) {
      await b.call("models.select", { id: model.id });
      const chat = await b.call<{ id: string }>("chat.create", {});
      await b.call("chat.update", {
        id: chat.id,
        sampling: { temperature: 0, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, maxTokens: 4, seed: 1 },
      });
      const done = b.next("generation.done");
      await b.call("chat.send", { conversationId: chat.id, text: "Once upon a time" });
      finalGeneration.push({ modelId: model.id, tokens: (await done).stats.tokens });
    }
    const survived = rounds.filter(ok).length;
    return {
      rounds,
      survived,
      completedImports: new Set(rounds.flatMap((x) => x.listed)).size - 1,
      finalGeneration,
      ms: performance.now() - started,
    };
  } finally {
    await b.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export function ok(round: ImportKillRound): boolean {
  return (
    round.partialsAfter === 0 &&
    round.incomplete.length === 0 &&
    round.strays.length === 0 &&
    round.sourceUnchanged &&
    round.cliFailed === undefined
  );
}

function describe(x: ImportKillRound): string {
  return `kill ${x.round + 1} (${x.mode}) at ${x.killedAt}, ${x.killMs.toFixed(0)} ms: ${x.partialsLeft} partial folder(s) left, ${x.partialsAfter} after restart; listed ${x.listed.length}; ${ok(x) ? "ok" : "FAILED"}`;
}

async function killEngineDuringImport(
  b: RealBackend,
  source: string,
  sourceSha: string,
  round: number,
  r: () => number,
  late: boolean,
  earlyWindowMs: number,
): Promise<ImportKillRound> {
  const engine = b.backend.services.engine;
  const pid = engine.pid!;
  let last: EventOf<"import.progress"> | null = null;
  let jobId = "";
  let firstProgressAt = 0;
  const started = performance.now();
  // Late kills: at a random calibration step from half-way on (1.0 lands at the commit), plus jitter.
  const lateAt = 0.5 + 0.5 * r();
  const jitterMs = Math.floor(r() * (late ? 30 : 1));
  // Half of the early kills within the first 300 ms (reading, converting, writing), half anywhere early.
  const delayMs = r() * (r() < 0.5 ? 300 : earlyWindowMs);
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const off = b.backend.events.subscribe((event, payload) => {
    if (event !== "import.progress") return;
    const p = payload as EventOf<"import.progress">;
    if (p.jobId !== jobId || p.state !== "running") return;
    last = p;
    if (!firstProgressAt) {
      firstProgressAt = performance.now();
      if (!late) setTimeout(kill, delayMs);
    }
    if (late && p.stage === "calibrate" && p.progress >= lateAt) setTimeout(kill, jitterMs);
  });
  const restarted = b.next("engine.status", (s) => s.state === "ready", 120_000);
  try {
    // The same file again and again: each import is a new copy.
    ({ jobId } = await b.call<{ jobId: string }>("models.importPath", { path: source, again: true }));
    const job = await b.next("import.progress", (p) => p.jobId === jobId && p.state !== "running", 180_000);
    // An import that finished before its kill came: kill now, the restart is the point.
    kill();
    await restarted;
    const killMs = performance.now() - started;
    const lastSeen = last as EventOf<"import.progress"> | null;
    const partialsLeft = partials(b.modelsDir);
    const listed = (await b.call<ModelSummary[]>("models.list", {})).map((m) => m.id);
    return {
      round,
      mode: "engine-host",
      killedAt: lastSeen ? `${lastSeen.stage} ${lastSeen.progress.toFixed(2)}` : "start",
      killMs,
      jobState: job.state,
      jobError: job.error,
      partialsLeft,
      ...(await inspect(b.modelsDir, listed, false)),
      sourceUnchanged: sha256(source) === sourceSha,
    };
  } finally {
    off();
  }
}

async function killCliImport(
  modelsDir: string,
  source: string,
  sourceSha: string,
  round: number,
  r: () => number,
): Promise<ImportKillRound> {
  // The CLI prints about 16 progress lines on stderr; kill after a random one of them.
  const killAfterLine = Math.floor(r() * 16);
  const jitterMs = Math.floor(r() * 10);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(repoRoot, "native-models/cli.ts"),
      "import",
      source,
      "--models-dir",
      modelsDir,
      "--json",
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  let lines = 0;
  let lastLine = "start";
  let killMs = 0;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = () => {
    if (child.exitCode !== null || child.signalCode) return;
    killMs = performance.now() - started;
    child.kill("SIGKILL");
  };
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    for (const line of chunk.split("\n").filter(Boolean)) {
      lastLine = line;
      if (lines++ === killAfterLine) setTimeout(kill, jitterMs);
    }
  });
  child.stdout.resume();
  await exited;
  if (!killMs) killMs = performance.now() - started;
  const partialsLeft = partials(modelsDir);
  // The restart: a fresh engine host looks at the folder, as the app does when it starts.
  const engine = new EngineClient({ spawn: spawnTsHost(realHostEntry), maxCrashes: 1 });
  try {
    const listed = (await engine.request("listModels", { modelsDir })).map((m) => m.id);
    return {
      round,
      mode: "cli",
      killedAt: child.signalCode === "SIGKILL" ? lastLine : `after exit (${lastLine})`,
      ...(child.exitCode ? { cliFailed: child.exitCode } : {}),
      killMs,
      partialsLeft,
      // CLI imports are not calibrated (no --calibrate); completeness does not ask for it there.
      ...(await inspect(modelsDir, listed, false)),
      sourceUnchanged: sha256(source) === sourceSha,
    };
  } finally {
    await engine.close();
  }
}

function partials(modelsDir: string): number {
  return readdirSync(modelsDir).filter((e) => e.startsWith(PARTIAL)).length;
}

/** Checks the folder against the listing: only complete packages, nothing else. */
async function inspect(modelsDir: string, listed: string[], wantCalibrated: boolean) {
  const entries = readdirSync(modelsDir);
  const strays = entries.filter((e) => !e.startsWith(".") && !listed.includes(e));
  const incomplete: string[] = [];
  for (const id of listed)
    if (!(await complete(path.join(modelsDir, id), wantCalibrated))) incomplete.push(id);
  return { partialsAfter: entries.filter((e) => e.startsWith(PARTIAL)).length, listed, incomplete, strays };
}

/**
 * A complete package: its manifest passes the engine's own schema, every file it names is there
 * (with the external-data .bin of each graph), and the files written before the manifest add up to
 * its sizeBytes; with `wantCalibrated`, also its calibration.
 */
export async function complete(dir: string, wantCalibrated: boolean): Promise<boolean> {
  try {
    const m = await readManifest(dir);
    const named = new Set<string>();
    const walk = (v: unknown): void => {
      if (typeof v === "string" && /^[\w.-]+\.(onnx|bin|sparse|native|json)$/.test(v)) {
        named.add(v);
        if (v.endsWith(".onnx")) named.add(v.replace(/\.onnx$/, ".bin"));
      } else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
    };
    walk({ ...m, source: null });
    for (const f of named) if (!statSync(path.join(dir, f)).isFile()) return false;
    // Calibration writes its files after the package was sized (maps first, then the policy).
    const afterSizing = new Set(["manifest.json", "predictors.json", "maps.bin"]);
    const total = readdirSync(dir)
      .filter((f) => !afterSizing.has(f))
      .reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
    if (total !== m.sizeBytes) return false;
    if (wantCalibrated && !(m.calibration && existsSync(path.join(dir, m.calibration.file)))) return false;
    return true;
  } catch {
    return false;
  }
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
