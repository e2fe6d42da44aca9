// Longer reliability runs of the format fuzzer:
//   npx tsx tools/fuzz/cli.ts [--cases N] [--seed S] [--no-shared] [--json]
// Exit status 1 when any case fails. A `reliability` script can call this or import runFuzz.
import { formatReport, runFuzz } from "./runner.js";

async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const cases = Number(arg("--cases") ?? process.env.EXITLANE_FUZZ_CASES ?? 1000);
  const seed = Number(arg("--seed") ?? 1);
  const report = await runFuzz(cases, seed, { includeShared: !process.argv.includes("--no-shared") });
  console.log(process.argv.includes("--json") ? JSON.stringify(report) : formatReport(report));
  process.exitCode = report.failures.length ? 1 : 0;
}

void main();
