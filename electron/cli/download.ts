// `download`: fetch a GGUF from a Hugging Face repo (the same downloader the app uses: resumable,
// SHA-256 checked, written beside the models folder) and import it like `import` does. The hub is
// EXITLANE_HF_ENDPOINT (default huggingface.co); a token for gated or private repos comes from
// EXITLANE_HF_TOKEN or HF_TOKEN. A failure leaves the models folder as it was.
import { rm } from "node:fs/promises";
import { importModel } from "../../native-models/engine/import-model.js";
import { defaultModelsDir } from "../../native-models/package/default-dirs.js";
import { oneOf, parse, UsageError } from "../../native-models/cli/args.js";
import { printImported } from "../../native-models/cli/import.js";
import { progressPrinter } from "../../native-models/cli/progress.js";
import type { HubFile } from "../contract.js";
import { ChannelError } from "../services/errors.js";
import { downloadFile, downloadsDirFor } from "../services/hub/download-file.js";
import { listRepo, type RepoListing } from "../services/hub/hub-client.js";
import { downloadError, hubEndpoint, type HubAccess } from "../services/hub/hub-http.js";
import { RateMeter } from "../services/hub/rate-meter.js";
import { checkRepoFile, parseRepoRef } from "../services/hub/repo-id.js";
import { supportProblem } from "../services/hub/support.js";

export const DOWNLOAD_USAGE = `  download <owner/name-or-url> [--file <name.gguf>] [--quant int4|int8|f16|f32] [--calibrate] [--models-dir <dir>] [--json]
           (hub: EXITLANE_HF_ENDPOINT, default https://huggingface.co; token: EXITLANE_HF_TOKEN or HF_TOKEN)`;

export async function downloadCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    file: { type: "string" },
    quant: { type: "string" },
    calibrate: { type: "boolean" },
    "models-dir": { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("download needs exactly one <owner/name> or hub URL");
  const quant = oneOf(values.quant, "quant", ["int4", "int8", "f16", "f32"] as const, "int4");
  try {
    const ref = usage(() => parseRepoRef(positionals[0]!));
    const access: HubAccess = {
      endpoint: hubEndpoint(),
      token: () => process.env.EXITLANE_HF_TOKEN || process.env.HF_TOKEN || null,
    };
    const listing = await listRepo(access, ref.repo);
    const hubFile = chooseFile(listing, values.file ?? ref.file);
    const modelsDir = values["models-dir"] ?? defaultModelsDir();
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    const downloaded = await downloadFile({
      access,
      repo: ref.repo,
      file: hubFile.path,
      downloadsDir: downloadsDirFor(modelsDir),
      expected: { sha256: hubFile.sha256, sizeBytes: hubFile.sizeBytes },
      signal: controller.signal,
      onProgress: bytesPrinter(),
    });
    try {
      const result = await importModel(downloaded.path, {
        modelsDir,
        quant,
        calibrate: values.calibrate,
        signal: controller.signal,
        onProgress: progressPrinter(),
      });
      printImported(result, values.json);
    } finally {
      await rm(downloaded.folder, { recursive: true, force: true });
    }
  } catch (error) {
    // The download code in brackets, like the format errors' (scripts can match on it).
    if (error instanceof ChannelError && error.detail?.downloadCode)
      throw new Error(`${error.message} [${error.detail.downloadCode}]`);
    throw error;
  }
}

function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ChannelError && error.code === "bad_request") throw new UsageError(error.message);
    throw error;
  }
}

/** --file, else the repo's only supported GGUF; several (or none) is a usage error listing them. */
function chooseFile(listing: RepoListing, wanted: string | undefined): HubFile {
  if (listing.unsupported) throw downloadError("unsupported", listing.unsupported);
  if (wanted !== undefined) {
    usage(() => checkRepoFile(wanted));
    const found = listing.files.find((f) => f.path === wanted);
    if (!found)
      throw downloadError(
        "not_found",
        `The model ${listing.repo} has no file ${wanted} (check the file name).`,
        404,
      );
    const problem = supportProblem(listing.arch, found.path);
    if (problem) throw downloadError("unsupported", `${found.path} cannot run here: ${problem}.`);
    return found;
  }
  const runnable = listing.files.filter((f) => !supportProblem(listing.arch, f.path));
  if (runnable.length === 1) return runnable[0]!;
  const lines = listing.files.map((f) => {
    const problem = supportProblem(listing.arch, f.path);
    return `  ${f.path}  ${mb(f.sizeBytes)}${problem ? `  (cannot run: ${problem})` : ""}`;
  });
  throw new UsageError(
    `${listing.repo} has ${listing.files.length} GGUF files; choose one with --file <name>:\n${lines.join("\n")}`,
  );
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Download progress on stderr: about once a second, and at the end. */
function bytesPrinter(): (received: number, total: number) => void {
  const meter = new RateMeter();
  let shown = -Infinity;
  return (received, total) => {
    meter.add(received);
    const now = performance.now();
    if (now - shown < 1000 && received < total) return;
    shown = now;
    const eta = meter.eta(total - received);
    const rate = meter.rate();
    const pct = Math.floor((received / Math.max(1, total)) * 100);
    process.stderr.write(
      `[download] ${pct}% ${mb(received)} of ${mb(total)}${rate ? `, ${mb(rate)}/s` : ""}${eta !== null && received < total ? `, ${eta} s left` : ""}\n`,
    );
  };
}
