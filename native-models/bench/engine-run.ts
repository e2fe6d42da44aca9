// One run of our engine on a model package: load, prefill a P-token prompt, G greedy decode
// steps (EOS ignored, fixed budget) — the same protocol as the llama.cpp run.
import { LoadedModel } from "../engine/loaded-model.js";
import type { ExitStrategy } from "../runtime/decoder.js";
import { BENCH_TEXT, benchPrompt } from "./bench-text.js";
import type { RunResult } from "./llama-cpp-run.js";
import { calibrateSparsity } from "../engine/sparsity.js";
import { measureExitOverhead, type ExitOverhead } from "./exit-overhead.js";

const GREEDY = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

export async function runEngine(
  packageDir: string,
  threads: number,
  P: number,
  G: number,
  exit?: (m: LoadedModel) => ExitStrategy | undefined,
  sparsity?: number,
): Promise<RunResult & { meanExitLayer: number; activeNeuronShare?: number; exitOverhead?: ExitOverhead }> {
  const t = performance.now();
  // The engine as users get it: native kernels where the package and the machine have them.
  const model = await LoadedModel.load(packageDir, { modelsDir: packageDir, threads, contextLength: P + G + 16 });
  const loadMs = performance.now() - t;
  try {
    if (sparsity !== undefined) {
      // Uncalibrated packages (synthetic weights) get thresholds from a short sample first.
      if (!model.runner.native!.calibrated) await calibrateSparsity(model, { prompts: ["The old lighthouse", "Once upon a time"], tokensPerPrompt: 16, measure: false });
      model.setSparsity(sparsity);
    }
    const prompt = benchPrompt(model.tokenizer.encode(BENCH_TEXT, { addBos: false }), P, model.tokenizer.bos);
    // Untimed warm-up (first runs of a session allocate and prepack).
    for await (const _ of model.generate({ promptIds: prompt.slice(0, 8), maxTokens: 4, ignoreEos: true, sampling: GREEDY })) void _;
    model.decoder.reset();
    if (model.runner.native) model.runner.native.active = model.runner.native.offered = 0;
    const strategy = exit?.(model);
    const it = model.generate({ promptIds: prompt, maxTokens: G + 1, ignoreEos: true, sampling: GREEDY, exitStrategy: () => strategy });
    const firstTokens: number[] = [];
    let r = await it.next();
    while (!r.done) {
      if (firstTokens.length < 8) firstTokens.push(r.value.id);
      r = await it.next();
    }
    const s = r.value;
    const sp = model.runner.native;
    const exitOverhead = exit ? await measureExitOverhead(model) : undefined;
    return {
      ...(exitOverhead ? { exitOverhead } : {}),
      loadMs,
      prefillTokPerSec: s.prefillTokensPerSecond,
      decodeTokPerSec: s.decodeTokensPerSecond,
      firstTokens,
      meanExitLayer: s.meanExitLayer,
      ...(sp ? { activeNeuronShare: sp.active / Math.max(1, sp.offered) } : {}),
    };
  } finally {
    await model.dispose();
  }
}
