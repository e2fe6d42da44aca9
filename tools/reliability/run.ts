// `npm run reliability`: the long versions of the reliability suites that `npm test` runs small
// (issue 6), with the real engine host, real SQLite and stories260K from ../shared. Prints a
// Markdown report (or JSON with --json) and exits 1 when any check fails.
//
//   npm run reliability [-- --quick] [-- --only fuzz,hostile,atomic,engine,durability,soak] [-- --seed N]
//                       [-- --json] [-- --out FILE.json]
//
// Sizes (full / --quick):
//   fuzz        format readers, seeded mutations            20,000 / 2,000 cases + boundary sweep
//   hostile     mutated files imported through the host      1,000 / 200 cases (every 25th accepted one imported to the end)
//   atomic      SIGKILLs during imports (engine host + CLI)  100 / 12 kills
//   engine      SIGKILLs of the engine host mid-answer       25 / 5 kills
//   durability  SIGKILLs of the process owning SQLite        30 / 5 kills
//   soak        generations back to back, random Stop/knob   500 / 120
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { formatReport, runBoundarySweep, runFuzz, type FuzzReport } from "../fuzz/runner.js";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { startRealBackend } from "../../electron/test-support/real-backend.js";
import { storiesPackage } from "../../electron/test-support/stories-package.js";
import { ok as importRoundOk, runImportKills, type ImportKillReport } from "./atomic-import.js";
import { runDurabilityKills, type DurabilityReport } from "./durability.js";
import { killEngineMidAnswer, type EngineKillRound } from "./engine-kill.js";
import { runHostileImports, type HostileImportReport } from "./hostile-import.js";
import { runSoak, type SoakReport } from "./soak.js";
import { rng } from "../../native-models/test-support/ggml-blocks.js";

const SUITES = ["fuzz", "hostile", "atomic", "engine", "durability", "soak"] as const;
type Suite = (typeof SUITES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const quick = values.quick;
const seed = Number(values.seed);
const only = new Set((values.only?.split(",") ?? SUITES) as Suite[]);
for (const s of only)
  if (!SUITES.includes(s)) throw new Error(`unknown suite "${s}" (choose from ${SUITES.join(", ")})`);

interface SuiteResult<T> {
  ok: boolean;
  seconds: number;
  problems: string[];
  data?: T;
}

const results: Partial<Record<Suite, SuiteResult<unknown>>> = {};
const log = (line: string) => process.stderr.write(`${line}\n`);

async function suite<T>(name: Suite, run: () => Promise<T>, check: (data: T) => string[]): Promise<void> {
  if (!only.has(name)) return;
  log(`\n== ${name} ==`);
  const t0 = performance.now();
  try {
    const data = await run();
    const problems = check(data);
    results[name] = { ok: problems.length === 0, seconds: (performance.now() - t0) / 1000, problems, data };
  } catch (error) {
    results[name] = {
      ok: false,
      seconds: (performance.now() - t0) / 1000,
      problems: [String((error as Error)?.stack ?? error)],
    };
  }
  log(`${name}: ${results[name]!.ok ? "ok" : "FAILED"} in ${results[name]!.seconds.toFixed(1)} s`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const needsModel = [...only].some((s) => s !== "fuzz" && s !== "hostile");
  if (needsModel && !haveShared("models/stories260K/gguf/stories260K-f32.gguf"))
    throw new Error(
      "stories260K is missing (../shared or EXITLANE_SHARED_DIR): the reliability run needs it",
    );
  if (needsModel) {
    const pkg = await storiesPackage();
    log(
      `stories260K package ready${pkg.importSeconds ? ` (imported in ${pkg.importSeconds.toFixed(1)} s)` : " (cached)"}`,
    );
  }

  await suite(
    "fuzz",
    async () => {
      const random = await runFuzz(quick ? 2000 : 20_000, seed);
      log(formatReport(random));
      const sweep = await runBoundarySweep({});
      log(formatReport(sweep));
      return { random, sweep };
    },
    ({ random, sweep }) =>
      [...random.failures, ...sweep.failures].map(
        (f) => `seed ${f.seed} ${f.base} [${f.mutation}]: ${f.error}`,
      ),
  );

  await suite(
    "hostile",
    () => runHostileImports({ cases: quick ? 200 : 1000, seed, fullImportEvery: 25, log }),
    (r) => [
      ...r.failures.map((f) => `seed ${f.seed} ${f.base} [${f.mutation}]: ${f.problems.join("; ")}`),
      ...(r.hostRestarts ? [`the engine host restarted ${r.hostRestarts} times`] : []),
    ],
  );

  await suite(
    "atomic",
    () =>
      runImportKills({
        engineKills: quick ? 9 : 90,
        cliKills: quick ? 3 : 10,
        lateEvery: quick ? 9 : 15,
        seed,
        log,
      }),
    (r) => r.rounds.filter((x) => !importRoundOk(x)).map((x) => `kill ${x.round + 1}: ${JSON.stringify(x)}`),
  );

  await suite(
    "engine",
    async () => {
      const b = await startRealBackend({ engine: { maxCrashes: 1_000_000 } });
      const r = rng(seed);
      const rounds: EngineKillRound[] = [];
      try {
        for (let i = 0; i < (quick ? 5 : 25); i++) {
          const round = await killEngineMidAnswer(b, 1 + Math.floor(r() * 200));
          rounds.push(round);
          log(
            `kill ${i + 1} after ${round.afterTokens} tokens: ${round.shown} shown, ${round.stored} stored, restart ${round.restartMs.toFixed(0)} ms, next answer ${round.next.tokens} tokens (${round.next.stopReason})`,
          );
        }
      } finally {
        await b.close();
      }
      return rounds;
    },
    (rounds) =>
      rounds.flatMap((x, i) => {
        const bad: string[] = [];
        if (!x.storedMatchesShown || x.stored !== x.shown)
          bad.push(`kill ${i + 1}: ${x.shown} tokens shown but ${x.stored} stored`);
        if (x.stopReason !== "interrupted") bad.push(`kill ${i + 1}: answer closed as ${x.stopReason}`);
        if (!x.statuses.some((s) => s.state === "restarting") || !x.statuses.some((s) => s.state === "ready"))
          bad.push(`kill ${i + 1}: engine.status did not report the restart`);
        if (x.next.tokens === 0 || /error|interrupted/.test(x.next.stopReason))
          bad.push(`kill ${i + 1}: the next message failed`);
        return bad;
      }),
  );

  await suite(
    "durability",
    () => runDurabilityKills({ rounds: quick ? 5 : 30, seed, log }),
    (r) =>
      r.rounds.flatMap((x) =>
        x.integrity !== "ok" ||
        x.integrityAfterRecovery !== "ok" ||
        x.lost > r.bound ||
        x.recoveredAs !== "interrupted"
          ? [`kill ${x.round + 1}: ${JSON.stringify(x)}`]
          : [],
      ),
  );

  await suite(
    "soak",
    () => runSoak({ generations: quick ? 120 : 500, seed, rssEvery: 10, log }),
    (r) => {
      const bad: string[] = [];
      if (r.stuck) bad.push(`${r.stuck} stuck answers`);
      if (r.leftoverAfterAnswers) bad.push(`${r.leftoverAfterAnswers} answers left something behind`);
      if (r.growthFrom50 !== null && r.growthFrom50 >= 0.1)
        bad.push(
          `engine RSS grew ${(r.growthFrom50 * 100).toFixed(1)}% from the 50th to the last generation (limit 10%)`,
        );
      return bad;
    },
  );

  const seconds = (performance.now() - started) / 1000;
  const report = {
    quick,
    seed,
    machine: { cpus: os.availableParallelism(), node: process.version },
    seconds,
    results,
  };
  if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : markdown(report.seconds));
  process.exitCode = Object.values(results).every((r) => r?.ok) ? 0 : 1;
}

function markdown(seconds: number): string {
  const lines = [
    `# Reliability report${quick ? " (quick)" : ""}`,
    "",
    `Seed ${seed}, ${os.availableParallelism()} CPUs, Node ${process.version}; total ${formatSeconds(seconds)}.`,
    "",
    "| suite | result | time |",
    "| --- | --- | --- |",
    ...SUITES.filter((s) => results[s]).map(
      (s) => `| ${s} | ${results[s]!.ok ? "ok" : "**FAILED**"} | ${formatSeconds(results[s]!.seconds)} |`,
    ),
    "",
  ];
  const fuzz = results.fuzz?.data as { random: FuzzReport; sweep: FuzzReport } | undefined;
  if (fuzz) {
    lines.push(
      "## Hostile files: format readers",
      "",
      "| reader | cases | accepted | refused (typed error) | failures |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const [reader, c] of Object.entries(fuzz.random.perReader)) {
      const sweep = fuzz.sweep.perReader[reader as keyof FuzzReport["perReader"]];
      const failures = [...fuzz.random.failures, ...fuzz.sweep.failures].filter(
        (f) => f.reader === reader,
      ).length;
      lines.push(
        `| ${reader} | ${c.cases + sweep.cases} | ${c.accepted + sweep.accepted} | ${c.rejected + sweep.rejected} | ${failures} |`,
      );
    }
    lines.push(
      "",
      `${fuzz.random.cases} seeded cases + ${fuzz.sweep.cases} boundary truncations; slowest case ${fuzz.random.slowest?.ms.toFixed(0)} ms.`,
      "",
    );
  }
  const hostile = results.hostile?.data as HostileImportReport | undefined;
  if (hostile) {
    lines.push(
      "## Hostile files: through the import path (back end + engine host)",
      "",
      "| reader | cases | refused | accepted | failures |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const [reader, c] of Object.entries(hostile.perReader))
      lines.push(`| ${reader} | ${c.cases} | ${c.refused} | ${c.accepted} | ${c.failures} |`);
    lines.push(
      "",
      `Accepted inputs imported to the end: ${JSON.stringify(hostile.fullImports)}; engine host restarts: ${hostile.hostRestarts}; slowest case ${hostile.slowestMs.toFixed(0)} ms.`,
    );
    lines.push(
      "",
      `Slowest: ${hostile.slowest.map((x) => `${x.ms} ms (${x.base}: ${x.mutation}; ${x.expected} -> ${x.job})`).join("; ")}.`,
    );
    const later = Object.entries(hostile.laterFailures);
    if (later.length) {
      lines.push("", "Accepted by the readers, refused later (conversion or calibration):", "");
      for (const [message, n] of later.sort((a, b) => b[1] - a[1])) lines.push(`- ${n} × ${message}`);
    }
    lines.push("");
  }
  const atomic = results.atomic?.data as ImportKillReport | undefined;
  if (atomic) {
    const engineRounds = atomic.rounds.filter((r) => r.mode === "engine-host");
    const stages = new Map<string, number>();
    for (const r of atomic.rounds) {
      const stage =
        r.killedAt
          .replace(/[\d.%]+/g, "")
          .replace(/[[\]]/g, "")
          .trim() || r.killedAt;
      stages.set(stage, (stages.get(stage) ?? 0) + 1);
    }
    lines.push(
      "## Atomic import",
      "",
      `Kills survived: **${atomic.survived}/${atomic.rounds.length}** (${engineRounds.length} of the engine host during models.importPath, ${atomic.rounds.length - engineRounds.length} of CLI imports).`,
      `Kills by stage: ${[...stages].map(([s, n]) => `${s} ${n}`).join(", ")}.`,
      `Temporary folders left by a kill: ${atomic.rounds.filter((r) => r.partialsLeft > 0).length} times; after the restart: ${atomic.rounds.reduce((s, r) => s + r.partialsAfter, 0)}.`,
      `Imports that completed despite the kill (and are complete): ${atomic.completedImports}. Source file unchanged after every kill: ${atomic.rounds.every((r) => r.sourceUnchanged)}.`,
      "",
    );
  }
  const engine = results.engine?.data as EngineKillRound[] | undefined;
  if (engine) {
    const restarts = engine.map((r) => r.restartMs).sort((a, b) => a - b);
    lines.push(
      "## Engine process isolation",
      "",
      `Kills survived: **${engine.filter((r) => r.stored === r.shown && r.next.tokens > 0).length}/${engine.length}**; tokens shown ${engine.reduce((s, r) => s + r.shown, 0)}, kept ${engine.reduce((s, r) => s + r.stored, 0)}; restart median ${restarts[restarts.length >> 1]?.toFixed(0)} ms, max ${restarts.at(-1)?.toFixed(0)} ms.`,
      "",
    );
  }
  const durability = results.durability?.data as DurabilityReport | undefined;
  if (durability) {
    lines.push(
      "## Durability",
      "",
      `Kills survived: **${durability.rounds.filter((r) => r.integrity === "ok" && r.integrityAfterRecovery === "ok" && r.lost <= durability.bound).length}/${durability.rounds.length}**; integrity_check ok after every kill: ${durability.rounds.every((r) => r.integrity === "ok")}.`,
      `Tokens lost per kill: max ${durability.maxLost}, mean ${(durability.rounds.reduce((s, r) => s + r.lost, 0) / Math.max(1, durability.rounds.length)).toFixed(1)} (bound: ${durability.bound}, the store writes every 16 tokens or 250 ms).`,
      "",
    );
  }
  const soak = results.soak?.data as SoakReport | undefined;
  if (soak) {
    const mib = (k: number | null) => (k === null ? "n/a" : `${(k / 1024).toFixed(1)} MiB`);
    lines.push(
      "## Soak",
      "",
      `${soak.generations} generations, ${soak.tokens} tokens in ${formatSeconds(soak.ms / 1000)} (${soak.msPerGeneration.toFixed(0)} ms each); stop reasons ${JSON.stringify(soak.stopReasons)}; stops confirmed ${soak.stopsConfirmed}/${soak.stopsRequested}; knob changes ${soak.knobChanges} (${soak.knobChangesMidAnswer} mid-answer); stuck ${soak.stuck}; most engine requests waiting at once ${soak.maxPending}.`,
      "",
      `Engine host RSS: first ${mib(soak.rssFirst)}, 50th ${mib(soak.rss50)}, last (${soak.generations}th) ${mib(soak.rssLast)}; growth from the 50th: ${soak.growthFrom50 === null ? "n/a" : `${(soak.growthFrom50 * 100).toFixed(1)}%`}.`,
      "",
      `RSS curve (generation: MiB): ${soak.rss.map((p) => `${p.generation}: ${(p.kib / 1024).toFixed(1)}`).join(", ")}`,
      "",
    );
  }
  const problems = SUITES.flatMap((s) =>
    (results[s]?.problems ?? []).slice(0, 20).map((p) => `- ${s}: ${p}`),
  );
  if (problems.length) lines.push("## Problems", "", ...problems, "");
  return `${lines.join("\n")}\n`;
}

function formatSeconds(s: number): string {
  return s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
