import { importModel, type ImportResult } from "../engine/import-model.js";
import { defaultModelsDir } from "../package/default-dirs.js";
import { oneOf, parse, printJson, UsageError } from "./args.js";
import { progressPrinter } from "./progress.js";

export async function importCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    tokenizer: { type: "string" },
    name: { type: "string" },
    quant: { type: "string" },
    "models-dir": { type: "string" },
    "block-size": { type: "string" },
    calibrate: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("import needs exactly one <file-or-folder>");
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const r = await importModel(positionals[0], {
    modelsDir: values["models-dir"] ?? defaultModelsDir(),
    quant: oneOf(values.quant, "quant", ["int4", "int8", "f16", "f32"] as const, "int4"),
    name: values.name,
    tokenizerPath: values.tokenizer,
    blockSize: values["block-size"] ? Number(values["block-size"]) : undefined,
    signal: controller.signal,
    onProgress: progressPrinter(),
    calibrate: values.calibrate,
  });
  printImported(r, values.json);
}

/** The import's result: one JSON line with --json (the last line of stdout), else a sentence. */
export function printImported(r: ImportResult, json = false): void {
  const m = r.manifest;
  const summary = {
    id: m.id,
    path: r.dir,
    arch: m.config.arch,
    layers: m.config.numLayers,
    params: m.params,
    quant: m.quant,
    seconds: +r.seconds.toFixed(2),
  };
  if (json) printJson(summary);
  else
    process.stdout.write(
      `imported ${m.name} as ${m.id} (${m.config.arch}, ${m.config.numLayers} layers, ${m.quant}) in ${summary.seconds}s\n  ${r.dir}\n`,
    );
}
