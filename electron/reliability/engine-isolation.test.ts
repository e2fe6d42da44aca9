// Issue 6 (and issue 5 acceptance 4), engine process isolation: the engine host SIGKILLed in the
// middle of an answer, through the whole back end with the real engine and stories260K. The back
// end restarts it and says so in engine.status, every token already shown stays in SQLite, and
// the next message works (the model is loaded again into the new host).
// `npm run reliability` runs more kills.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { startRealBackend, type RealBackend } from "../test-support/real-backend.js";
import { killEngineMidAnswer } from "../../tools/reliability/engine-kill.js";

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "engine process isolation",
  () => {
    let b: RealBackend;
    beforeAll(async () => {
      b = await startRealBackend();
    }, 180_000);
    afterAll(async () => {
      await b?.close();
    });

    it.each([1, 17, 90])(
      "keeps every shown token and answers again after a kill after %i tokens",
      { timeout: 60_000 },
      async (afterTokens) => {
        const round = await killEngineMidAnswer(b, afterTokens);
        console.log(
          `kill after ${afterTokens} tokens: ${round.shown} shown, ${round.stored} stored; restarted in ${round.restartMs.toFixed(0)} ms; next answer ${round.next.tokens} tokens`,
        );
        expect(round.shown).toBeGreaterThanOrEqual(afterTokens);
        expect(round.stored).toBe(round.shown);
        expect(round.storedMatchesShown).toBe(true);
        expect(round.stopReason).toBe("interrupted");
        expect(round.doneError).toMatch(/The engine process stopped unexpectedly \(signal SIGKILL\)/);
        expect(round.statuses.map((s) => s.state)).toEqual(expect.arrayContaining(["restarting", "ready"]));
        expect(round.statuses.find((s) => s.state === "restarting")).toMatchObject({
          loadedModelId: null,
          message: expect.stringMatching(/stopped unexpectedly \(signal SIGKILL\)\. Restarting/),
        });
        expect(round.statuses.find((s) => s.state === "ready")).toMatchObject({
          message: "The engine restarted after a crash.",
        });
        expect(round.newPid).not.toBe(round.oldPid);
        expect(round.next.stopReason).not.toMatch(/error|interrupted/);
        expect(round.next.tokens).toBeGreaterThan(0);
        expect(round.next.loadedModelId).toBe(b.modelId);
        expect(b.backend.services.conversations.integrityCheck()).toBe("ok");
      },
    );
  },
);
