// Issue 6, soak (short version): 60 generations back to back through the contract with the real
// engine and stories260K, random Stop and random knob values (some mid-answer): every answer ends,
// nothing is left queued or buffered, the engine host never restarts. RSS first/last is reported;
// `npm run reliability` runs 500 generations and holds growth from the 50th to the 500th under 10%.
import { describe, expect, it } from "vitest";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { runSoak } from "../../tools/reliability/soak.js";

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))("soak", () => {
  it(
    "60 generations with random Stop and knob: no stuck state, no growing queue",
    { timeout: 240_000 },
    async () => {
      const report = await runSoak({ generations: 60, seed: 60 });
      console.log(
        `soak: ${report.generations} generations, ${report.tokens} tokens in ${(report.ms / 1000).toFixed(1)} s ` +
          `(${report.msPerGeneration.toFixed(0)} ms each); stop reasons ${JSON.stringify(report.stopReasons)}; ` +
          `stops ${report.stopsConfirmed}/${report.stopsRequested} confirmed; knob changes ${report.knobChanges} ` +
          `(${report.knobChangesMidAnswer} mid-answer); max pending engine requests ${report.maxPending}; ` +
          `engine RSS first ${(report.rssFirst / 1024).toFixed(1)} MiB, 50th ${((report.rss50 ?? 0) / 1024).toFixed(1)} MiB, ` +
          `last ${(report.rssLast / 1024).toFixed(1)} MiB`,
      );
      expect(report.generations).toBe(60);
      expect(report.stuck).toBe(0);
      expect(report.leftoverAfterAnswers).toBe(0);
      expect(report.maxPending).toBeLessThanOrEqual(3);
      expect(report.stopsRequested).toBeGreaterThan(0);
      expect(report.stopReasons.stopped ?? 0).toBeGreaterThan(0);
      expect(report.knobChangesMidAnswer).toBeGreaterThan(0);
      expect(report.rssFirst).toBeGreaterThan(0);
    },
  );
});
