import { readFile } from "node:fs/promises";
import { int, parse, printJson, UsageError } from "./args.js";
import { loadFromFlags, modelFlags } from "./generate.js";

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...modelFlags, text: { type: "string" }, "max-tokens": { type: "string" } });
  if (!values.text) throw new UsageError("--text <file> is required");
  const text = await readFile(values.text, "utf8");
  const maxTokens = int(values["max-tokens"], "max-tokens", 0, 0);
  const model = await loadFromFlags(values);
  try {
    let ids = model.encodeRaw(text);
    const limit = Math.min(maxTokens || Infinity, model.runner.maxPositions);
    if (ids.length > limit) ids = ids.slice(0, limit);
    const r = await model.evaluate(ids);
    const out = {
      tokens: r.tokens,
      nll: +r.nll.toFixed(6),
      perplexity: +r.perplexity.toFixed(4),
      layers: r.layers,
      meanExitLayer: +r.meanExitLayer.toFixed(3),
      agreement: +r.agreement.toFixed(4),
      exitHistogram: r.exitHistogram,
      seconds: +r.seconds.toFixed(2),
    };
    if (values.json) printJson(out);
    else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await model.dispose();
  }
}
