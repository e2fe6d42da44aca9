// Issue 6, hostile model files through the import path: seeded mutations of every reader's inputs
// (the formats fuzzer's, which itself runs 1,000+ cases in tools/fuzz) imported
// through the back end and the real engine host. Each refused file fails with the readers' own
// specific message, nothing is left in the models folder, and the host stays alive.
// `npm run reliability` runs 2,000 cases, importing a sample of the accepted ones to the end.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { EventOf } from "../contract.js";
import { fuzzBases } from "../../tools/fuzz/bases.js";
import { startRealBackend } from "../test-support/real-backend.js";
import { runHostileImports } from "../../tools/reliability/hostile-import.js";

describe("hostile model files through the import path", () => {
  it(
    "200 mutated inputs: specific errors, an unchanged models folder, a living engine host",
    { timeout: 300_000 },
    async () => {
      const lines: string[] = [];
      const report = await runHostileImports({ cases: 200, seed: 1, log: (l) => lines.push(l) });
      console.log(
        `${lines.join("\n")}\n${report.cases} hostile imports in ${(report.ms / 1000).toFixed(1)} s (slowest ${report.slowestMs.toFixed(0)} ms): ` +
          Object.entries(report.perReader)
            .map(
              ([reader, c]) =>
                `${reader} ${c.cases} (${c.refused} refused, ${c.accepted} accepted, ${c.failures} failures)`,
            )
            .join("; "),
      );
      expect(
        report.failures.map((f) => `${f.seed} ${f.base} [${f.mutation}]: ${f.problems.join("; ")}`),
      ).toEqual([]);
      expect(report.hostRestarts).toBe(0);
      expect(Object.keys(report.perReader).sort()).toEqual(
        ["gguf", "hf-config", "hf-tokenizer", "llama2c", "llama2c-tokenizer", "safetensors"].sort(),
      );
    },
  );

  it(
    "a model whose tokenizer cannot encode text: its calibration fails in plain words, and so does a chat",
    { timeout: 60_000 },
    async () => {
      // Valid files (the fuzzer's tiny HF base): a 64-piece vocabulary with no unknown, byte or BOS
      // token, so English encodes to nothing. The model enters the library (its files are fine);
      // the calibration that follows, which needs text, says why it cannot run.
      const base = fuzzBases().built.find((b) => b.name === "tiny-hf-llama/config.json")!;
      const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-tiny-hf-"));
      for (const [name, data] of Object.entries(base.files)) writeFileSync(path.join(dir, name), data);
      const b = await startRealBackend({ stories: false });
      try {
        const calibration = b.next(
          "import.progress",
          (p: EventOf<"import.progress">) => p.stage === "calibrate" && p.state !== "running",
          50_000,
        );
        await b.call("models.importPath", { path: dir });
        expect(await calibration).toMatchObject({
          state: "failed",
          error: expect.stringMatching(/the text encodes to no tokens with this model's tokenizer/),
        });
        const [model] = await b.call<Array<{ id: string; calibration: { status: string } }>>(
          "models.list",
          {},
        );
        expect(model.calibration.status).toBe("none");
        await b.call("models.select", { id: model.id });
        const chat = await b.call<{ id: string }>("chat.create", {});
        const done = b.next("generation.done");
        await b.call("chat.send", { conversationId: chat.id, text: "Hello" });
        expect((await done).stats.stopReason).toBe("error");
      } finally {
        await b.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
