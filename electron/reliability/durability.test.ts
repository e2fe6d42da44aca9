// Issue 6, durability: the process that owns SQLite (a whole back end answering with the real
// engine) SIGKILLed mid-answer, again and again over one database: integrity_check is "ok" after
// every kill, the answer comes back marked "interrupted", and at most 15 shown tokens are lost
// (TOKEN_FLUSH_COUNT - 1). `npm run reliability` runs 40 kills.
import { describe, expect, it } from "vitest";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { runDurabilityKills } from "../../tools/reliability/durability.js";

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "durability of conversations",
  () => {
    it(
      "keeps the database sound and loses at most 15 tokens per kill of the back end",
      { timeout: 240_000 },
      async () => {
        const lines: string[] = [];
        const report = await runDurabilityKills({ rounds: 5, seed: 3, log: (l) => lines.push(l) });
        console.log(
          `${lines.join("\n")}\nmax lost ${report.maxLost} (bound ${report.bound}) in ${(report.ms / 1000).toFixed(1)} s`,
        );
        expect(report.rounds).toHaveLength(5);
        for (const round of report.rounds) {
          expect(round.integrity).toBe("ok");
          expect(round.integrityAfterRecovery).toBe("ok");
          expect(round.recoveredAs).toBe("interrupted");
          expect(round.lost).toBeLessThanOrEqual(report.bound);
        }
        // Every killed answer is in the database (one per round, plus the ones finished in between).
        expect(report.rounds.at(-1)!.answersInDatabase).toBeGreaterThanOrEqual(5);
      },
    );
  },
);
