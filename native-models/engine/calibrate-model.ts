// Calibrates an imported model package and stores the result in it: predictors.json beside the
// graphs and the measured curve in manifest.json (replaced atomically; a failed or cancelled
// calibration leaves the package as it was).
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { calibrate, type CalibrateOptions, type CalibrationResult } from "../early-exit/calibrate.js";
import { readManifest, resolvePackage, writeManifest } from "../package/models-dir.js";
import type { Manifest } from "../package/manifest.js";
import { LoadedModel, type LoadModelOptions } from "./loaded-model.js";
import { calibrateSparsity } from "../sparse/sparsity.js";
import { DECODE_REVISION } from "./decode-revision.js";

export const POLICY_FILE = "predictors.json";

export async function calibrateModel(
  idOrPath: string,
  load: LoadModelOptions,
  o: CalibrateOptions = {},
): Promise<{ manifest: Manifest; result: CalibrationResult }> {
  const dir = await resolvePackage(load.modelsDir, idOrPath);
  const options = { ...load, contextLength: Math.max(512, load.contextLength ?? 1024) };
  // Early exit is calibrated on the dense model (sparsity 0); the FFN thresholds then on the same
  // model's native form.
  const model = await LoadedModel.load(dir, { ...options, sparseRows: true });
  const sparseToo = model.runner.native !== null;
  // One progress bar for both: early exit takes most of the time, the sparse thresholds the rest.
  const exitShare = sparseToo ? 0.85 : 1;
  let result: CalibrationResult;
  let thresholds: Awaited<ReturnType<typeof calibrateSparsity>> | undefined;
  try {
    model.runner.native?.setSparsity(0);
    result = await calibrate(model, {
      ...o,
      onProgress: (f, detail) => o.onProgress?.(f * exitShare, detail),
    });
    if (sparseToo) {
      thresholds = await calibrateSparsity(model, {
        signal: o.signal,
        onProgress: (f) => o.onProgress?.(exitShare + (1 - exitShare) * f, "calibrating sparse FFNs"),
      });
    }
  } finally {
    await model.dispose();
  }
  const kernels = model.runner.kernels;
  // The maps first: a policy is only ever read next to the maps it names.
  const mapsTmp = path.join(dir, `${result.policy.maps.file}.${process.pid}.tmp`);
  await writeFile(mapsTmp, result.maps);
  await rename(mapsTmp, path.join(dir, result.policy.maps.file));
  const tmp = path.join(dir, `${POLICY_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(result.policy));
  await rename(tmp, path.join(dir, POLICY_FILE));
  const manifest = await readManifest(dir);
  manifest.calibration = {
    file: POLICY_FILE,
    curve: result.curve,
    lossless: result.lossless,
    seconds: Math.round(result.seconds * 10) / 10,
    kernels,
    decodeRevision: DECODE_REVISION,
  };
  if (manifest.native && thresholds) manifest.native.thresholds = thresholds;
  await writeManifest(dir, manifest);
  return { manifest, result };
}
