// Hostile model files through the import path, end to end: the formats fuzzer's seeded mutations
// (every reader: GGUF, safetensors + header, config.json, tokenizer.json, llama2.c model and
// tokenizer) written to disk and imported through the back end (models.importPath -> import job ->
// the REAL engine host). For every case:
//   - a file the readers refuse fails its job with exactly the readers' own specific message,
//   - a file the readers accept is converted, then cancelled when calibration starts (or, for a
//     sample, imported to the end), and ends done, cancelled, or failed with a message,
//   - the models folder is exactly as before (nothing added, no `.partial-*` left),
//   - the engine host is the same process, still answering.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EventOf, ImportJob, ModelSummary } from "../../electron/contract.js";
import { fuzzBases, type Base, type Reader } from "../fuzz/bases.js";
import { mutate } from "../fuzz/mutators.js";
import { ModelFormatError } from "../../native-models/formats/errors.js";
import { openModelSource } from "../../native-models/formats/open-model.js";
import { rng } from "../../native-models/test-support/ggml-blocks.js";
import { startRealBackend, type RealBackend } from "../../electron/test-support/real-backend.js";

export interface HostileImportCase {
  seed: number;
  base: string;
  reader: Reader;
  mutation: string;
  /** What the readers said in this process: "ok" or a ModelFormatError code. */
  expected: string;
  expectedMessage?: string;
  job: ImportJob["state"] | "timeout";
  error?: string;
  /** Problems found; empty when the case passed. */
  problems: string[];
  ms: number;
}

export interface HostileImportReport {
  cases: number;
  perReader: Record<string, { cases: number; refused: number; accepted: number; failures: number }>;
  /** Accepted inputs imported to the end, and how they ended. */
  fullImports: Record<string, number>;
  /** The messages of accepted inputs that failed later (conversion, calibration), with counts. */
  laterFailures: Record<string, number>;
  failures: HostileImportCase[];
  hostRestarts: number;
  slowestMs: number;
  /** The five slowest cases. */
  slowest: Array<{ seed: number; base: string; mutation: string; expected: string; job: string; ms: number }>;
  ms: number;
}

export interface HostileImportOptions {
  cases: number;
  seed?: number;
  /** Of the inputs the readers accept, import every Nth to the end instead of cancelling (0: never). */
  fullImportEvery?: number;
  /** Per-case limit on the job (default 30 s; full imports get 180 s). */
  caseTimeoutMs?: number;
  log?: (line: string) => void;
}

const SHARED_SHARE = 0.25; // as in the formats fuzzer

export async function runHostileImports(o: HostileImportOptions): Promise<HostileImportReport> {
  const started = performance.now();
  const work = mkdtempSync(path.join(os.tmpdir(), "exitlane-hostile-"));
  const b = await startRealBackend({ stories: false, engine: { maxCrashes: 1_000_000 } });
  const report: HostileImportReport = {
    cases: 0,
    perReader: {},
    fullImports: {},
    laterFailures: {},
    failures: [],
    hostRestarts: 0,
    slowestMs: 0,
    slowest: [],
    ms: 0,
  };
  let accepted = 0;
  try {
    await b.backend.services.engine.start();
    mkdirSync(b.modelsDir, { recursive: true });
    const { built, shared } = fuzzBases();
    for (let i = 0; i < o.cases; i++) {
      const seed = (o.seed ?? 1) + i;
      const r = rng(seed);
      const pool = r() < SHARED_SHARE && shared.length ? shared : built;
      const base = pool[Math.floor(r() * pool.length)];
      const m = mutate(base, r);
      const dir = path.join(work, `case-${seed}`);
      const entry = writeCase(dir, base, m.bytes, m.sparseSize);
      const expected = await readInProcess(entry);
      const full = expected.code === "ok" && !!o.fullImportEvery && accepted++ % o.fullImportEvery === 0;
      const result = await importCase(b, dir, entry, expected, full, o.caseTimeoutMs ?? 30_000);
      rmSync(dir, { recursive: true, force: true });
      const c: HostileImportCase = {
        seed,
        base: base.name,
        reader: base.reader,
        mutation: m.description,
        expected: expected.code,
        expectedMessage: expected.message,
        ...result,
      };
      report.cases++;
      const pr = (report.perReader[base.reader] ??= { cases: 0, refused: 0, accepted: 0, failures: 0 });
      pr.cases++;
      if (expected.code === "ok") pr.accepted++;
      else pr.refused++;
      if (full) report.fullImports[c.job] = (report.fullImports[c.job] ?? 0) + 1;
      if (expected.code === "ok" && c.job === "failed") {
        // Group by message without the case's own temp path.
        const message = (c.error ?? "").replaceAll(dir, "<case>");
        report.laterFailures[message] = (report.laterFailures[message] ?? 0) + 1;
      }
      if (c.problems.length) {
        pr.failures++;
        report.failures.push(c);
        o.log?.(`FAIL seed ${seed} ${base.name} [${m.description}]: ${c.problems.join("; ")}`);
      }
      report.slowestMs = Math.max(report.slowestMs, c.ms);
      report.slowest = [
        ...report.slowest,
        {
          seed,
          base: base.name,
          mutation: m.description,
          expected: expected.code,
          job: c.job,
          ms: Math.round(c.ms),
        },
      ]
        .sort((x, y) => y.ms - x.ms)
        .slice(0, 5);
      if (result.restarted) report.hostRestarts++;
      if ((i + 1) % 100 === 0) o.log?.(`${i + 1} hostile imports, ${report.failures.length} failures`);
    }
  } finally {
    await b.close();
    rmSync(work, { recursive: true, force: true });
  }
  report.ms = performance.now() - started;
  return report;
}

/** ModelFormatError messages end with "(<file>)". */
function namesFileIn(message: string | undefined, dir: string): boolean {
  const m = /\(([^()]+)\)$/.exec(message ?? "");
  return !!m && (m[1] === dir || m[1].startsWith(dir + path.sep));
}

function writeCase(dir: string, base: Base, target: Uint8Array, sparseSize?: number): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(base.files)) {
    const p = path.join(dir, name);
    writeFileSync(p, name === base.target ? target : data);
    if (name === base.target && sparseSize) truncateSync(p, sparseSize);
  }
  return base.entry ? path.join(dir, base.entry) : dir;
}

/** What the readers make of the input here, reading every tensor as the import will. */
async function readInProcess(entry: string): Promise<{ code: string; message?: string }> {
  try {
    const source = await openModelSource(entry);
    try {
      for (const name of source.tensors.keys()) await source.readTensor(name);
    } finally {
      await source.close();
    }
    return { code: "ok" };
  } catch (e) {
    if (e instanceof ModelFormatError) return { code: e.code, message: e.message };
    return { code: "unexpected", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

async function importCase(
  b: RealBackend,
  caseDir: string,
  entry: string,
  expected: { code: string; message?: string },
  full: boolean,
  timeoutMs: number,
): Promise<{
  job: ImportJob["state"] | "timeout";
  error?: string;
  problems: string[];
  ms: number;
  restarted: boolean;
}> {
  const t0 = performance.now();
  const problems: string[] = [];
  const engine = b.backend.services.engine;
  const pid = engine.pid;
  const before = readdirSync(b.modelsDir).sort().join(",");
  if (expected.code === "unexpected")
    problems.push(`the reader threw something other than its own error: ${expected.message}`);
  let jobId = "";
  let cancelling: Promise<unknown> | null = null;
  const off = b.backend.events.subscribe((event, payload) => {
    const p = payload as EventOf<"import.progress">;
    if (event !== "import.progress" || p.jobId !== jobId || full || cancelling) return;
    if (p.state === "running" && p.stage === "calibrate")
      cancelling = b.call("models.cancelImport", { jobId });
  });
  let job: ImportJob | null = null;
  try {
    // Waiting from before the job exists; the job id is known by the time it can end.
    const ended = b
      .next("import.progress", (p) => p.jobId === jobId && p.state !== "running", full ? 180_000 : timeoutMs)
      .catch(() => null);
    ({ jobId } = await b.call<{ jobId: string }>("models.importPath", { path: entry }));
    job = await ended;
    await cancelling;
    await b.backend.services.imports.idle();
  } catch (e) {
    problems.push(`models.importPath refused: ${(e as Error).message}`);
  } finally {
    off();
  }
  if (!job) problems.push(`the job did not end within ${full ? 180_000 : timeoutMs} ms`);
  else if (expected.code !== "ok") {
    if (job.state !== "failed") problems.push(`a refused input ended "${job.state}"`);
    // The import reads tensors in its own order, so with several broken ones it may name another
    // first; it must still be a reader's message naming a file of this input.
    else if (job.error !== expected.message && !namesFileIn(job.error, caseDir))
      problems.push(`error "${job.error}" is not a reader's message (the reader said "${expected.message}")`);
    else if (expected.code !== "unexpected" && job.errorCode !== "model_format")
      problems.push(`a reader's refusal arrived with code ${job.errorCode}, not model_format`);
  } else if (job.state === "failed" && !job.error) problems.push("failed without a message");
  else if (job.state === "failed" && job.errorCode === "engine_crashed")
    problems.push(`the engine died: ${job.error}`);

  // The library: as before, unless a full import added its model (then it is removed again).
  if (job?.state === "done" && job.modelId) {
    const listed = await b.call<ModelSummary[]>("models.list", {});
    if (!listed.some((m) => m.id === job!.modelId)) problems.push("a finished import is not in the library");
    await b.call("models.delete", { id: job.modelId });
  }
  const after = readdirSync(b.modelsDir).sort().join(",");
  if (after !== before) problems.push(`the models folder changed: [${before}] -> [${after}]`);
  const restarted = engine.pid !== pid;
  if (restarted) problems.push("the engine host restarted (it crashed)");
  return { job: job?.state ?? "timeout", error: job?.error, problems, ms: performance.now() - t0, restarted };
}
