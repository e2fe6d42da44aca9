// Issue 6, atomic import: imports SIGKILLed at random moments (engine host and CLI) leave only
// complete models, no temporary folders after the restart, and the source file untouched.
// `npm run reliability` runs the same with 100 kills.
import { describe, expect, it } from "vitest";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { ok, runImportKills } from "../../tools/reliability/atomic-import.js";

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))("atomic import", () => {
  it("survives 10 SIGKILLs at random moments of an import", { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runImportKills({ engineKills: 7, cliKills: 3, seed: 6, log: (l) => lines.push(l) });
    console.log(
      `${lines.join("\n")}\n${report.survived}/${report.rounds.length} kills survived in ${(report.ms / 1000).toFixed(1)} s`,
    );
    for (const round of report.rounds) expect(ok(round), JSON.stringify(round)).toBe(true);
    expect(report.survived).toBe(10);
    // The kills did land in the middle of imports (temporary folders were there to clean up).
    expect(report.rounds.filter((r) => r.partialsLeft > 0).length).toBeGreaterThan(0);
    for (const r of report.rounds.filter((x) => x.mode === "engine-host" && x.jobState !== "done"))
      expect(r.jobError).toMatch(/The engine process stopped unexpectedly \(signal SIGKILL\)/);
    expect(report.finalGeneration.length).toBeGreaterThan(0);
    for (const g of report.finalGeneration) expect(g.tokens).toBeGreaterThan(0);
  });
});
