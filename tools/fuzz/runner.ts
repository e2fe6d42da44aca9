// The fuzz runner: each case = one seeded mutation of one base input, written to a temp folder and
// opened through the public entry points (openModelSource, and readGgufMetadata for GGUF), reading
// every tensor when the open succeeds. A case passes when it settles within the time limit, either
// succeeds or throws ModelFormatError, and never asks for an allocation its input cannot justify.

import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { rng } from "../../native-models/test-support/ggml-blocks.js";
import { setAllocationObserver } from "../../native-models/formats/binary.js";
import { ModelFormatError } from "../../native-models/formats/errors.js";
import { readGgufMetadata } from "../../native-models/formats/gguf.js";
import { openModelSource } from "../../native-models/formats/open-model.js";
import { openLlama2c } from "../../native-models/formats/llama2c.js";
import type { ModelSource } from "../../native-models/formats/model-source.js";
import { READERS, fuzzBases, type Base, type Reader } from "./bases.js";
import { mutate, type Mutated } from "./mutators.js";

export interface FuzzCaseResult {
  seed: number;
  base: string;
  reader: Reader;
  mutation: string;
  /** "ok", a ModelFormatError code, or "FAIL". */
  outcome: string;
  error?: string;
  ms: number;
}

export interface FuzzReport {
  cases: number;
  perReader: Record<
    Reader,
    { cases: number; accepted: number; rejected: number; byCode: Record<string, number> }
  >;
  failures: FuzzCaseResult[];
  slowest: FuzzCaseResult | undefined;
  ms: number;
}

export interface FuzzOptions {
  /** Include the stories260K bases when /work/shared is present (default true). */
  includeShared?: boolean;
  timeoutMs?: number;
}

class AllocationViolation extends Error {
  override readonly name = "AllocationViolation";
}

/** Share of cases drawn from the real stories260K files, when present. */
const SHARED_SHARE = 0.25;

export async function runFuzzCase(seed: number, opts: FuzzOptions = {}): Promise<FuzzCaseResult> {
  const r = rng(seed);
  const { built, shared } = fuzzBases();
  const useShared = r() < SHARED_SHARE && (opts.includeShared ?? true) && shared.length > 0;
  const pool = useShared ? shared : built;
  const base = pool[Math.floor(r() * pool.length)];
  return runCase(seed, base, mutate(base, r), opts);
}

/** Runs one mutated input of `base`: writes the case folder, exercises the readers, cleans up. */
export async function runCase(
  seed: number,
  base: Base,
  m: Mutated,
  opts: FuzzOptions = {},
): Promise<FuzzCaseResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "exitlane-fuzz-"));
  const t0 = performance.now();
  const result = (outcome: string, error?: string): FuzzCaseResult => ({
    seed,
    base: base.name,
    reader: base.reader,
    mutation: m.description,
    outcome,
    error,
    ms: performance.now() - t0,
  });
  try {
    let largest = 0;
    for (const [name, data] of Object.entries(base.files)) {
      const bytes = name === base.target ? m.bytes : data;
      const p = path.join(dir, name);
      writeFileSync(p, bytes);
      if (name === base.target && m.sparseSize) truncateSync(p, m.sparseSize);
      largest = Math.max(largest, bytes.length);
    }
    // The most any reader may legitimately allocate at once: a dequantized tensor (at most ~7.1x its
    // Q4_K/Q4_0 bytes) or a file's own bytes, plus the 1 MB read-ahead window. Sparse tails do not
    // count: nothing in them is needed.
    const limit = 8 * largest + (2 << 20);
    setAllocationObserver((bytes, what) => {
      if (bytes > limit)
        throw new AllocationViolation(
          `allocation of ${bytes} bytes for ${what} exceeds the ${limit}-byte budget of this input`,
        );
    });
    const outcome = await withTimeout(exercise(base, dir), opts.timeoutMs ?? 5000);
    return result(outcome);
  } catch (e) {
    return result(
      "FAIL",
      e instanceof Error
        ? `${e.name}: ${e.message}\n${e.stack?.split("\n").slice(1, 6).join("\n")}`
        : String(e),
    );
  } finally {
    setAllocationObserver(undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function exercise(base: Base, dir: string): Promise<string> {
  const entry = base.entry ? path.join(dir, base.entry) : dir;
  let code: string | undefined;
  const expectFormatError = (e: unknown): string => {
    if (e instanceof ModelFormatError) return e.code;
    throw e;
  };
  if (base.reader === "gguf") await readGgufMetadata(entry).catch(expectFormatError);
  let src: ModelSource;
  try {
    // llama2.c files are only detected when their size matches exactly; open them directly as well
    // so the reader's own checks see every mutation.
    if (base.reader === "llama2c" || base.reader === "llama2c-tokenizer") {
      await openModelSource(entry).then((s) => s.close(), expectFormatError);
      src = await openLlama2c(entry);
    } else src = await openModelSource(entry);
  } catch (e) {
    return expectFormatError(e);
  }
  try {
    for (const name of src.tensors.keys()) {
      const w = await src.readTensor(name);
      if (w.length !== src.tensors.get(name)!.shape.reduce((a, b) => a * b, 1))
        throw new Error(`tensor ${name}: wrong length ${w.length}`);
    }
  } catch (e) {
    code = expectFormatError(e);
  } finally {
    await src.close();
  }
  return code ?? "ok";
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

class Tally {
  private readonly start = performance.now();
  readonly report: FuzzReport = {
    cases: 0,
    perReader: Object.fromEntries(
      READERS.map((r) => [r, { cases: 0, accepted: 0, rejected: 0, byCode: {} }]),
    ) as unknown as FuzzReport["perReader"],
    failures: [],
    slowest: undefined,
    ms: 0,
  };
  add(res: FuzzCaseResult): void {
    const r = this.report;
    const pr = r.perReader[res.reader];
    r.cases++;
    pr.cases++;
    if (res.outcome === "ok") pr.accepted++;
    else if (res.outcome !== "FAIL") pr.rejected++;
    pr.byCode[res.outcome] = (pr.byCode[res.outcome] ?? 0) + 1;
    if (res.outcome === "FAIL") r.failures.push(res);
    if (!r.slowest || res.ms > r.slowest.ms) r.slowest = res;
    r.ms = performance.now() - this.start;
  }
}

/** Runs `cases` random cases with seeds seed, seed+1, ...; returns per-reader counts and every failure. */
export async function runFuzz(cases: number, seed = 1, opts: FuzzOptions = {}): Promise<FuzzReport> {
  const t = new Tally();
  mkdirSync(tmpdir(), { recursive: true });
  for (let i = 0; i < cases; i++) t.add(await runFuzzCase(seed + i, opts));
  return t.report;
}

/** Truncates every base input at every structural boundary (start and end of each field). */
export async function runBoundarySweep(
  opts: FuzzOptions & { maxCutsPerBase?: number } = {},
): Promise<FuzzReport> {
  const t = new Tally();
  const { built, shared } = fuzzBases();
  for (const base of opts.includeShared === false ? built : [...built, ...shared]) {
    const src = base.files[base.target];
    const cuts = [...new Set(base.fields.flatMap((f) => [f.offset, f.offset + f.size]))]
      .filter((c) => c < src.length)
      .sort((a, b) => a - b);
    // Spread the cuts evenly when a base has more boundaries than the budget.
    const step = Math.max(1, cuts.length / (opts.maxCutsPerBase ?? Infinity));
    for (let i = 0; i < cuts.length; i += step) {
      const cut = cuts[Math.floor(i)];
      t.add(
        await runCase(
          cut,
          base,
          { bytes: src.subarray(0, cut), description: `truncate at boundary ${cut}` },
          opts,
        ),
      );
    }
  }
  return t.report;
}

export function formatReport(r: FuzzReport): string {
  const lines = [
    `${r.cases} fuzz cases in ${(r.ms / 1000).toFixed(1)} s, ${r.failures.length} failures; slowest ${r.slowest?.ms.toFixed(0)} ms (${r.slowest?.base}: ${r.slowest?.mutation})`,
  ];
  for (const [reader, c] of Object.entries(r.perReader)) {
    const codes = Object.entries(c.byCode)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    lines.push(`  ${reader.padEnd(18)} ${String(c.cases).padStart(6)} cases: ${codes}`);
  }
  for (const f of r.failures.slice(0, 20))
    lines.push(`  FAIL seed ${f.seed} ${f.base} [${f.mutation}]: ${f.error}`);
  return lines.join("\n");
}
