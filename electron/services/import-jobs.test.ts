// The import job lifecycle through the back end and the REAL engine host: stage progress, the
// model in the library, cancel, and files that are not models, each leaving the library as it was.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EventOf, ImportJob, ModelSummary } from "../contract.js";
import { haveShared, stories } from "../../native-models/test-support/shared-fixtures.js";
import { realBackends, type RealBackend } from "../test-support/real-backend.js";
import { storiesPackage } from "../test-support/stories-package.js";

const start = realBackends();

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
type Progress = EventOf<"import.progress">;
const progressOf = (b: RealBackend, jobId: string) =>
  b.seen
    .filter((e) => e.event === "import.progress" && (e.payload as Progress).jobId === jobId)
    .map((e) => e.payload as Progress);
const ended = (b: RealBackend, jobId: string, ms = 180_000) =>
  b.next("import.progress", (p) => p.jobId === jobId && p.state !== "running", ms);

/** What the library and the models folder hold right now. */
async function snapshot(b: RealBackend) {
  return {
    list: JSON.stringify(await b.call<ModelSummary[]>("models.list", {})),
    dir: readdirSync(b.modelsDir).sort(),
  };
}

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "import jobs on the real engine host",
  () => {
    beforeAll(async () => {
      await storiesPackage();
    }, 180_000);

    it(
      "imports a GGUF file through read, convert, quantize and write; it answers at once and is calibrated by a job of its own",
      { timeout: 240_000 },
      async () => {
        const b = await start({ stories: false });
        const before = sha256(stories.gguf);
        const { jobId } = await b.call<{ jobId: string }>("models.importPath", { path: stories.gguf });
        const job = await ended(b, jobId);
        expect(job).toMatchObject({ state: "done", progress: 1, source: "stories260K-f32.gguf" });
        const stages = progressOf(b, jobId).map((p) => p.stage);
        expect([...new Set(stages)]).toEqual(["read", "convert", "quantize", "write"]);
        for (const p of progressOf(b, jobId)) {
          expect(p.progress).toBeGreaterThanOrEqual(0);
          expect(p.progress).toBeLessThanOrEqual(1);
        }
        expect(b.seen.some((e) => e.event === "models.changed")).toBe(true);
        const [model] = await b.call<ModelSummary[]>("models.list", {});
        expect(model).toMatchObject({
          id: job.modelId,
          name: "stories260K",
          arch: "llama",
          layers: 5,
          params: 260_032,
          contextLength: 512,
          sourceFormat: "gguf",
          // No quantization asked for: a model under 1B parameters gets int8.
          quant: "int8",
        });
        expect(readdirSync(b.modelsDir)).toEqual([model.id]);
        expect(sha256(stories.gguf)).toBe(before);
        // Its calibration runs as its own job, and the model answers (at full depth) meanwhile.
        const calibration = (await b.call<ImportJob[]>("models.jobs", {})).find(
          (j) => j.stage === "calibrate",
        )!;
        expect(calibration).toMatchObject({ state: "running", source: "stories260K" });
        await b.call("models.select", { id: model.id });
        const chat = await b.call<{ id: string }>("chat.create", {});
        const done = b.next("generation.done");
        await b.call("chat.send", { conversationId: chat.id, text: "Once upon a time" });
        expect((await done).stats.tokens).toBeGreaterThan(0);
        expect(
          (await b.call<ImportJob[]>("models.jobs", {})).find((j) => j.jobId === calibration.jobId)?.state,
        ).toBe("running");
        expect(await ended(b, calibration.jobId)).toMatchObject({ state: "done", modelId: model.id });
        const [calibrated] = await b.call<ModelSummary[]>("models.list", {});
        expect(calibrated.calibration.status).toBe("calibrated");
        expect(calibrated.calibration.curve.length).toBeGreaterThan(0);
      },
    );

    it(
      "cancels an import at any stage, leaving the library and the models folder as they were; a cancelled calibration leaves the model uncalibrated",
      { timeout: 180_000 },
      async () => {
        const b = await start({ select: false });
        const before = await snapshot(b);
        expect(before.dir).toEqual([b.modelId]);
        // Cancel at once (reading), while converting, and while writing.
        const cancelAt: Array<(p: Progress) => boolean> = [
          () => true,
          (p) => p.stage === "convert",
          (p) => p.stage === "write",
        ];
        const confirmed: string[] = [];
        for (const when of cancelAt) {
          const { jobId } = await b.call<{ jobId: string }>("models.importPath", { path: stories.hf });
          if (!progressOf(b, jobId).some(when))
            await b
              .next("import.progress", (p) => p.jobId === jobId && when(p), 120_000)
              .catch(() => undefined);
          const t0 = performance.now();
          const reply = await b.call<{ cancelled: boolean }>("models.cancelImport", { jobId });
          const ms = performance.now() - t0;
          const job = (await b.call<ImportJob[]>("models.jobs", {})).find((j) => j.jobId === jobId)!;
          await b.backend.services.imports.idle();
          if (!reply.cancelled) {
            // Too late: it finished (stories260K converts in well under a second). Then it is in
            // the library, and is taken out again for the next round.
            expect(job.state).toBe("done");
            for (const j of await b.call<ImportJob[]>("models.jobs", {}))
              if (j.state === "running") await b.call("models.cancelImport", { jobId: j.jobId });
            await b.backend.services.imports.idle();
            await b.call("models.delete", { id: job.modelId });
            confirmed.push(`${job.stage}: finished first`);
            continue;
          }
          expect(job.state).toBe("cancelled");
          expect(await snapshot(b)).toEqual(before);
          confirmed.push(`${job.stage} ${job.progress.toFixed(2)}: ${ms.toFixed(0)} ms`);
          // A second cancel changes nothing and says it was cancelled.
          expect(await b.call("models.cancelImport", { jobId })).toEqual({ cancelled: true });
        }
        console.log(`cancel confirmed at ${confirmed.join("; ")}`);
        expect(confirmed.some((c) => !c.includes("finished first"))).toBe(true);

        // The calibration job that follows an import, cancelled midway: the model stays, uncalibrated.
        // (stories260K is in the library already: this is a second copy.)
        const { jobId } = await b.call<{ jobId: string }>("models.importPath", {
          path: stories.gguf,
          again: true,
        });
        const imported = await ended(b, jobId);
        const calibration = await b.next(
          "import.progress",
          (p) => p.stage === "calibrate" && p.progress >= 0.2,
          120_000,
        );
        expect(await b.call("models.cancelImport", { jobId: calibration.jobId })).toEqual({
          cancelled: true,
        });
        await b.backend.services.imports.idle();
        const model = (await b.call<ModelSummary[]>("models.list", {})).find(
          (m) => m.id === imported.modelId,
        )!;
        expect(model.calibration.status).toBe("none");
        expect(readdirSync(path.join(b.modelsDir, model.id)).some((f) => f.startsWith("predictors"))).toBe(
          false,
        );
        await expect(b.call("models.cancelImport", { jobId: "no-such-job" })).rejects.toMatchObject({
          code: "not_found",
        });
      },
    );

    it(
      "fails files that are not models with specific messages, leaving the library as it was",
      { timeout: 60_000 },
      async () => {
        const b = await start({ select: false });
        const before = await snapshot(b);
        const emptyFolder = path.join(b.userDataDir, "empty-folder");
        mkdirSync(emptyFolder);
        const truncated = path.join(b.userDataDir, "stories-truncated.gguf");
        copyFileSync(stories.gguf, truncated);
        writeFileSync(truncated, readFileSync(truncated).subarray(0, 5000));
        const notAModel = path.join(b.userDataDir, "holiday-photo.gguf");
        writeFileSync(notAModel, "this is not a model");
        const cases: Array<[string, RegExp, string]> = [
          [truncated, /file ends at byte 5000 while reading metadata.*stories-truncated\.gguf/, "truncated"],
          [
            notAModel,
            /not a recognised model format \(supported: a GGUF file.*holiday-photo\.gguf/,
            "unknown_format",
          ],
          [emptyFolder, /folder has no config\.json.*empty-folder/, "unknown_format"],
        ];
        for (const [source, message, formatCode] of cases) {
          const { jobId } = await b.call<{ jobId: string }>("models.importPath", { path: source });
          const job = await ended(b, jobId, 30_000);
          // The reader's code and file reach the job unchanged, beside its words.
          expect(job).toMatchObject({
            state: "failed",
            error: expect.stringMatching(message),
            errorCode: "model_format",
            errorDetail: { formatCode, file: source },
          });
          expect(await snapshot(b)).toEqual(before);
        }
        expect(await b.call("engine.info", {})).toMatchObject({ hostPid: b.backend.services.engine.pid });
      },
    );

    it("says a file is already in the library (same quantization) instead of making a second copy", async () => {
      const b = await start({ stories: false });
      const first = await ended(
        b,
        (await b.call<{ jobId: string }>("models.importPath", { path: stories.gguf })).jobId,
      );
      expect(first.state).toBe("done");
      // Which models there are (the first one's calibration may still be running and change its card).
      const models = async () => ({
        ids: (await b.call<ModelSummary[]>("models.list", {})).map((m) => m.id),
        dir: readdirSync(b.modelsDir).sort(),
      });
      const before = await models();
      const again = await ended(
        b,
        (await b.call<{ jobId: string }>("models.importPath", { path: stories.gguf })).jobId,
      );
      expect(again).toMatchObject({
        state: "failed",
        errorCode: "already_imported",
        errorDetail: { modelId: first.modelId },
        error: expect.stringMatching(/already in the library/),
      });
      expect(await models()).toEqual(before);
      // Another quantization is another model; and asked for, a second copy is made.
      const f32 = await ended(
        b,
        (await b.call<{ jobId: string }>("models.importPath", { path: stories.gguf, quant: "f32" })).jobId,
      );
      expect(f32.state).toBe("done");
      const copy = await ended(
        b,
        (await b.call<{ jobId: string }>("models.importPath", { path: stories.gguf, again: true })).jobId,
      );
      expect(copy.state).toBe("done");
      expect(copy.modelId).not.toBe(first.modelId);
      await b.backend.services.imports.idle();
    }, 240_000);
  },
);
