// Calibrates an imported model package and stores the result in it: predictors.json beside the
// graphs and the measured curve in manifest.json (replaced atomically; a failed or cancelled
// calibration leaves the package as it was).
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { calibrate, type CalibrateOptions, type CalibrationResult } from "../early-exit/calibrate.js";
import { readManifest, resolvePackage, writeManifest } from "../package/models-dir.js";
import type { Manifest } from "../package/manifest.js";
import { LoadedModel, type LoadModelOptions } from "./loaded-model.js";

export const POLICY_FILE = "predictors.json";

export async function calibrateModel(
  idOrPath: string,
  load: LoadModelOptions,
  o: CalibrateOptions = {},
): Promise<{ manifest: Manifest; result: CalibrationResult }> {
  const dir = await resolvePackage(load.modelsDir, idOrPath);
  const model = await LoadedModel.load(dir, { ...load, contextLength: Math.max(512, load.contextLength ?? 1024) });
  try {
    const result = await calibrate(model, o);
    const tmp = path.join(dir, `${POLICY_FILE}.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(result.policy));
    await rename(tmp, path.join(dir, POLICY_FILE));
    const manifest = await readManifest(dir);
    manifest.calibration = { file: POLICY_FILE, curve: result.curve, seconds: Math.round(result.seconds * 10) / 10 };
    await writeManifest(dir, manifest);
    return { manifest, result };
  } finally {
    await model.dispose();
  }
}
