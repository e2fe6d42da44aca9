// A calibration stored while onnxruntime stood in for the native kernels (the app's engine host
// could not find them) measured speeds this engine no longer has: the model says so, and the back
// end measures it again by itself once the kernels load.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { EventOf, ModelSummary } from "../contract.js";
import { loadNativeKernels } from "../../native-models/kernels/index.js";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { startRealBackend } from "../test-support/real-backend.js";
import { copyStoriesInto } from "../test-support/stories-package.js";

const kernels = loadNativeKernels();
if (!kernels.available && process.env.EXITLANE_REQUIRE_NATIVE === "1")
  throw new Error(`EXITLANE_REQUIRE_NATIVE=1 but ${kernels.detail}`);

describe.runIf(kernels.available && haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "stale calibrations",
  () => {
    it("are marked and measured again on the native kernels", { timeout: 240_000 }, async () => {
      const userDataDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-stale-"));
      const modelsDir = path.join(userDataDir, "models");
      const modelId = await copyStoriesInto(modelsDir);
      const manifestFile = path.join(modelsDir, modelId, "manifest.json");
      const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
      expect(manifest.calibration.kernels).toMatch(/^native /);
      manifest.calibration.kernels = "onnxruntime MatMulNBits";
      writeFileSync(manifestFile, JSON.stringify(manifest));

      const b = await startRealBackend({ userDataDir, stories: false, select: false });
      try {
        const done = b.next(
          "import.progress",
          (p: EventOf<"import.progress">) => p.stage === "calibrate" && p.state !== "running",
          200_000,
        );
        // Until it is measured again the library says why its curve does not hold.
        const before = (await b.call<ModelSummary[]>("models.list", {})).find((m) => m.id === modelId)!;
        if (before.calibration.measuredOn === "onnxruntime MatMulNBits")
          expect(before.calibration.stale).toBe(
            "measured on onnxruntime MatMulNBits; the native kernels run this model now",
          );
        expect(await done).toMatchObject({ state: "done", modelId });
        const [after] = await b.call<ModelSummary[]>("models.list", {});
        expect(after.calibration.measuredOn).toBe(`native ${kernels.available ? kernels.kernels[0] : ""}`);
        expect(after.calibration.stale).toBeUndefined();
        expect(after.calibration.curve.length).toBeGreaterThan(0);
      } finally {
        await b.close();
      }
    });
  },
);
