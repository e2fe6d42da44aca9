import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { stories } from "../../native-models/test-support/shared-fixtures.js";
import { formatReport, runBoundarySweep, runFuzz, runFuzzCase } from "./runner.js";
import { REGRESSION_SEEDS } from "./regressions.js";

// Acceptance: at least 1,000 seeded cases (EXITLANE_FUZZ_CASES raises it), each settling within 5 s
// as success or ModelFormatError, with no allocation beyond what its input can justify.
const CASES = Math.max(1000, Number(process.env.EXITLANE_FUZZ_CASES ?? 1000));
const SEED = Number(process.env.EXITLANE_FUZZ_SEED ?? 1);
const shared = existsSync(stories.dir);

describe("format readers under hostile inputs", () => {
  it(`${CASES} seeded mutations of every reader's inputs`, { timeout: 120_000 + CASES * 100 }, async () => {
    const report = await runFuzz(CASES, SEED);
    console.log(formatReport(report));
    expect(report.failures).toEqual([]);
    for (const [reader, c] of Object.entries(report.perReader))
      expect(c.cases, `${reader} got no cases`).toBeGreaterThan(0);
  });

  it("truncation at every structural boundary of every base input", { timeout: 300_000 }, async () => {
    const report = await runBoundarySweep({ maxCutsPerBase: 150 });
    console.log(formatReport(report));
    expect(report.failures).toEqual([]);
  });

  it.each(REGRESSION_SEEDS.filter((r) => shared || !r.includeShared))(
    "regression seed $seed: $note",
    async (r) => {
      const res = await runFuzzCase(r.seed, { includeShared: r.includeShared });
      expect(res.outcome, res.error).not.toBe("FAIL");
    },
  );
});
