import { readFile } from "node:fs/promises";
import { int, parse, printJson, UsageError } from "./args.js";
import { loadFromFlags, modelFlags } from "./generate.js";
import { parseExit, withExitDefault } from "./exit-flag.js";

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse(withExitDefault(argv), {
    ...modelFlags,
    exit: { type: "string" },
    text: { type: "string" },
    "max-tokens": { type: "string" },
  });
  if (!values.text) throw new UsageError("--text <file> is required");
  const text = await readFile(values.text, "utf8");
  const maxTokens = int(values["max-tokens"], "max-tokens", 0, 0);
  const { model, sparsity } = await loadFromFlags(values);
  try {
    let ids = model.encodeRaw(text);
    const limit = Math.min(maxTokens || Infinity, model.runner.maxPositions);
    if (ids.length > limit) ids = ids.slice(0, limit);
    const knob = parseExit(values.exit);
    if (sparsity !== undefined) model.setSparsity(sparsity);
    else model.applyKnob(knob ?? 0);
    // Token by token whenever exit or sparse FFNs act (they act on single decode tokens only).
    const exit = model.exitAt(knob) ?? (model.runner.native ? {} : undefined);
    const r = await model.evaluate(ids, exit);
    const out = {
      tokens: r.tokens,
      nll: +r.nll.toFixed(6),
      perplexity: +r.perplexity.toFixed(4),
      layers: r.layers,
      meanExitLayer: +r.meanExitLayer.toFixed(3),
      agreement: +r.agreement.toFixed(4),
      exitHistogram: r.exitHistogram,
      ...(model.runner.native
        ? {
            sparsity: model.runner.native.sparsity,
            activeNeuronShare: +(
              model.runner.native.active / Math.max(1, model.runner.native.offered)
            ).toFixed(4),
          }
        : {}),
      ...(r.speed
        ? {
            decodeTokensPerSecond: {
              withExit: +r.speed.exitTokensPerSecond.toFixed(2),
              fullDepth: +r.speed.fullDepthTokensPerSecond.toFixed(2),
              speedup: +r.speed.speedup.toFixed(3),
              speedupRounds: r.speed.speedupRounds.map((x) => +x.toFixed(3)),
            },
          }
        : {}),
      seconds: +r.seconds.toFixed(2),
    };
    if (values.json) printJson(out);
    else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await model.dispose();
  }
}
