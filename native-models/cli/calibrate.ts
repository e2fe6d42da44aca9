import { readFile } from "node:fs/promises";
import { calibrateModel } from "../engine/calibrate-model.js";
import { defaultModelsDir } from "../package/default-dirs.js";
import { int, parse, printJson, UsageError } from "./args.js";

export async function calibrateCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: "string" },
    "models-dir": { type: "string" },
    threads: { type: "string" },
    text: { type: "string" },
    "tokens-per-prompt": { type: "string" },
    json: { type: "boolean" },
  });
  if (!values.model) throw new UsageError("--model <id-or-path> is required");
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  let last = -1;
  const load = {
    modelsDir: values["models-dir"] ?? defaultModelsDir(),
    threads: values.threads ? int(values.threads, "threads", 2, 1, 256) : undefined,
  };
  const { manifest, result } = await calibrateModel(values.model, load, {
    extraText: values.text ? await readFile(values.text, "utf8") : undefined,
    tokensPerPrompt: values["tokens-per-prompt"]
      ? int(values["tokens-per-prompt"], "tokens-per-prompt", 96, 8, 4096)
      : undefined,
    signal: controller.signal,
    onProgress: (f, detail) => {
      const pct = Math.floor(f * 100);
      if (pct >= last + 5) {
        last = pct;
        process.stderr.write(`[calibrate] ${pct}% ${detail}\n`);
      }
    },
  });
  const p = result.policy;
  const out = {
    id: manifest.id,
    seconds: +result.seconds.toFixed(1),
    kvMode: p.kvMode,
    checkLayers: p.checkLayers,
    shortlist: p.shortlist.length,
    curve: result.curve,
    lossless: result.lossless,
    stats: p.stats,
  };
  if (values.json) printJson(out);
  else process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}
