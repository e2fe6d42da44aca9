import { defaultModelsDir } from "../package/default-dirs.js";
import { LoadedModel } from "../engine/loaded-model.js";
import { int, num, parse, printJson, UsageError } from "./args.js";
import { DEFAULT_SAMPLING } from "../runtime/sampler.js";
import { parseExitMode, withExitDefault } from "./exit-flag.js";
import { parseSparsity } from "./sparsity-flag.js";

export const modelFlags = {
  model: { type: "string" },
  sparsity: { type: "string" },
  "models-dir": { type: "string" },
  threads: { type: "string" },
  ctx: { type: "string" },
  provider: { type: "string" },
  json: { type: "boolean" },
} as const;

export async function loadFromFlags(
  values: {
    model?: string;
    "models-dir"?: string;
    threads?: string;
    ctx?: string;
    provider?: string;
    sparsity?: string;
  },
  minContext = 0,
) {
  if (!values.model) throw new UsageError("--model <id-or-path> is required");
  const sparsity = parseSparsity(values.sparsity);
  const model = await LoadedModel.load(values.model, {
    modelsDir: values["models-dir"] ?? defaultModelsDir(),
    threads: values.threads ? int(values.threads, "threads", 2, 1, 256) : undefined,
    contextLength: Math.max(minContext, int(values.ctx, "ctx", 4096, 16, 1 << 20)),
    executionProvider: values.provider ?? "cpu",
    native: sparsity.load,
    ...(sparsity.level !== undefined ? { sparseRows: true } : {}),
  });
  return { model, sparsity: sparsity.level };
}

export async function generateCommand(argv: string[]): Promise<void> {
  const { values } = parse(withExitDefault(argv), {
    ...modelFlags,
    exit: { type: "string" },
    prompt: { type: "string" },
    system: { type: "string" },
    raw: { type: "boolean" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    "min-p": { type: "string" },
    "repeat-penalty": { type: "string" },
    seed: { type: "string" },
    "ignore-eos": { type: "boolean" },
  });
  if (values.prompt === undefined) throw new UsageError("--prompt <text> is required");
  const temperature = num(values.temperature, "temperature", DEFAULT_SAMPLING.temperature, 0, 5);
  const sampling = {
    temperature,
    topK: int(values["top-k"], "top-k", DEFAULT_SAMPLING.topK, 0, 100000),
    topP: num(values["top-p"], "top-p", DEFAULT_SAMPLING.topP, 0, 1),
    minP: num(values["min-p"], "min-p", temperature === 0 ? 0 : DEFAULT_SAMPLING.minP, 0, 1),
    // Greedy decoding is plain argmax unless a penalty is asked for explicitly.
    repetitionPenalty: num(
      values["repeat-penalty"],
      "repeat-penalty",
      temperature === 0 ? 1 : DEFAULT_SAMPLING.repetitionPenalty,
      0.5,
      2,
    ),
    seed: values.seed === undefined ? null : int(values.seed, "seed", 0, 0, 2 ** 32 - 1),
  };
  const mode = parseExitMode(values.exit);
  const knob = mode === "lossless" ? undefined : mode;
  const { model, sparsity } = await loadFromFlags(values);
  try {
    if (knob !== undefined && !model.exit)
      throw new UsageError(
        `model ${model.manifest.id} is not calibrated for early exit (run calibrate first)`,
      );
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    const system = values.system ? [{ role: "system" as const, content: values.system }] : [];
    const it = model.chat({
      ...(values.raw
        ? { prompt: values.prompt }
        : { messages: [...system, { role: "user" as const, content: values.prompt }] }),
      maxTokens: int(values["max-tokens"], "max-tokens", 256, 1, 1 << 20),
      sampling,
      ignoreEos: values["ignore-eos"],
      signal: controller.signal,
      knob: () => knob ?? 0,
      sparsity,
      lossless: mode === "lossless" ? "always" : "never",
    });
    for (;;) {
      const r = await it.next();
      if (r.done) {
        const s = r.value;
        const done = {
          type: "done",
          tokens: s.tokens,
          prefillTokensPerSecond: +s.prefillTokensPerSecond.toFixed(2),
          decodeTokensPerSecond: +s.decodeTokensPerSecond.toFixed(2),
          meanExitLayer: +s.meanExitLayer.toFixed(3),
          layers: s.layers,
          stopReason: s.stopReason,
          ...(s.speculation ? { speculation: s.speculation } : {}),
        };
        if (values.json) printJson(done);
        else
          process.stderr.write(
            `\n[${s.tokens} tokens, ${done.decodeTokensPerSecond} tok/s, mean exit layer ${done.meanExitLayer}/${s.layers}, ${s.stopReason}]\n`,
          );
        break;
      }
      const t = r.value;
      if (values.json)
        printJson({
          type: "token",
          id: t.id,
          text: t.text,
          exitLayer: t.exitLayer,
          ...(t.exit
            ? {
                checkedLayers: t.exit.checkedLayers,
                exitMs: +(t.exit.predictorMs + t.exit.verifyMs + t.exit.draftMs).toFixed(3),
              }
            : {}),
        });
      else process.stdout.write(t.text);
    }
  } finally {
    await model.dispose();
  }
}
