// One run of our engine on a model package: load, prefill a P-token prompt, G greedy decode
// steps (EOS ignored, fixed budget) — the same protocol as the llama.cpp run — at full depth, with
// calibrated early exit at a knob, with lossless speculative decoding, or with every token forced
// to exit after one layer (the machinery's cost on synthetic weights, whose exits never fire).
import { LoadedModel } from "../engine/loaded-model.js";
import { BENCH_TEXT, benchPrompt, peakRssMB } from "./bench-text.js";
import type { RunResult } from "./llama-cpp-run.js";
import { calibrateSparsity } from "../sparse/sparsity.js";
import { measureExitOverhead, type ExitOverhead } from "./exit-overhead.js";
import { forcedExit } from "../early-exit/forced-exit.js";
import { GREEDY } from "../early-exit/calibration-data.js";
import type { KvMode } from "../runtime/decoder.js";
import { measureMultiToken, type MultiTokenCost } from "./multi-token.js";

export type EngineMode =
  | { kind: "full"; multiToken?: boolean }
  | { kind: "exit"; knob: number }
  | { kind: "lossless" }
  | { kind: "exitAt"; layer: number; kvMode: KvMode }
  | { kind: "sparse"; sparsity: number };

export interface EngineRunResult extends RunResult {
  meanExitLayer: number;
  activeNeuronShare?: number;
  exitOverhead?: ExitOverhead;
  /** Lossless: draft tokens accepted per verification pass. */
  acceptedPerRound?: number;
  /**
   * Lossless: decode tok/s of full-depth and lossless runs alternated in this same process after
   * the timed run, and each pair's ratio. A process's own speed varies (on a 2-vCPU VM, ±30%
   * between processes of the same mode), so a ratio is measured within one.
   */
  sameProcess?: { fullDepth: number[]; lossless: number[]; ratios: number[] };
  multiToken?: MultiTokenCost;
  /**
   * Peak RSS (MiB) through load, warm-up and the timed decodes: what running the model needs,
   * before bench's own extra measurements (exit overhead, multi-token costs) add theirs.
   */
  peakRssMB: number | null;
}

export async function runEngine(
  packageDir: string,
  threads: number,
  P: number,
  G: number,
  mode: EngineMode,
): Promise<EngineRunResult> {
  const t = performance.now();
  // The engine as users get it: native kernels where the package and the machine have them.
  const model = await LoadedModel.load(packageDir, {
    modelsDir: packageDir,
    threads,
    contextLength: P + G + 16,
    ...(mode.kind === "sparse" ? { sparseRows: true } : {}),
  });
  const loadMs = performance.now() - t;
  try {
    if (mode.kind === "sparse") {
      // Uncalibrated packages (synthetic weights) get thresholds from a short sample first.
      if (!model.runner.native!.calibrated)
        await calibrateSparsity(model, {
          prompts: ["The old lighthouse", "Once upon a time"],
          tokensPerPrompt: 16,
          measure: false,
        });
      model.setSparsity(mode.sparsity);
    }
    if (mode.kind === "exit" && !model.exit)
      throw new Error(`${model.manifest.id} is not calibrated for early exit`);
    const prompt = benchPrompt(model.tokenizer.encode(BENCH_TEXT, { addBos: false }), P, model.tokenizer.bos);
    const strategy =
      mode.kind === "exitAt"
        ? forcedExit(model.runner, mode.layer, mode.kvMode)
        : mode.kind === "exit"
          ? model.exit!.strategyFor(mode.knob)
          : undefined;
    const options = {
      ignoreEos: true,
      sampling: GREEDY,
      exitStrategy: () => strategy,
      ...(mode.kind === "lossless" ? { speculation: model.speculationOptions() } : {}),
    };
    // Untimed warm-up through the same code path as the timed run (first runs of a session
    // allocate and prepack, and the JavaScript of each mode is compiled on first use).
    // Three passes of up to 128 tokens or two seconds, whichever comes first (large models are
    // warm sooner): a lossless pass makes fewer, longer rounds, whose code one pass did not warm
    // (its first timed run was ~20% slower than its later ones on kjv16).
    const warmUntil = performance.now() + 2000;
    for (let pass = 0; pass < 3 && performance.now() < warmUntil; pass++) {
      for await (const _ of model.generate({ ...options, promptIds: prompt.slice(0, 16), maxTokens: 128 }))
        if (performance.now() > warmUntil) break;
      model.decoder.reset();
    }
    if (model.runner.native) model.runner.native.active = model.runner.native.offered = 0;
    const decode = async (o: typeof options) => {
      const it = model.generate({ ...o, promptIds: prompt, maxTokens: G + 1 });
      const firstTokens: number[] = [];
      let r = await it.next();
      while (!r.done) {
        if (firstTokens.length < 8) firstTokens.push(r.value.id);
        r = await it.next();
      }
      model.decoder.reset();
      return { summary: r.value, firstTokens };
    };
    const { summary: s, firstTokens } = await decode(options);
    let sameProcess: EngineRunResult["sameProcess"];
    if (mode.kind === "lossless") {
      const { speculation: _, ...fullDepth } = options;
      sameProcess = { fullDepth: [], lossless: [], ratios: [] };
      for (let pair = 0; pair < 3; pair++) {
        const order = pair % 2 ? ([options, fullDepth] as const) : ([fullDepth, options] as const);
        const [a, b] = [await decode(order[0]), await decode(order[1])];
        const [full, fast] = pair % 2 ? [b, a] : [a, b];
        sameProcess.fullDepth.push(full.summary.decodeTokensPerSecond);
        sameProcess.lossless.push(fast.summary.decodeTokensPerSecond);
        sameProcess.ratios.push(fast.summary.decodeTokensPerSecond / full.summary.decodeTokensPerSecond);
      }
    }
    const peakRss = peakRssMB();
    const sp = model.runner.native;
    const exitOverhead =
      mode.kind === "exit" || mode.kind === "exitAt" ? await measureExitOverhead(model) : undefined;
    const multiToken =
      mode.kind === "full" && mode.multiToken ? await measureMultiToken(model, prompt) : undefined;
    return {
      ...(exitOverhead ? { exitOverhead } : {}),
      ...(multiToken ? { multiToken } : {}),
      loadMs,
      peakRssMB: peakRss,
      prefillTokPerSec: s.prefillTokensPerSecond,
      decodeTokPerSec: s.decodeTokensPerSecond,
      firstTokens,
      meanExitLayer: s.meanExitLayer,
      kernels: model.runner.kernels,
      ...(s.speculation
        ? { acceptedPerRound: s.speculation.accepted / Math.max(1, s.speculation.rounds) }
        : {}),
      ...(sp ? { activeNeuronShare: sp.active / Math.max(1, sp.offered) } : {}),
      ...(sameProcess ? { sameProcess } : {}),
    };
  } finally {
    await model.dispose();
  }
}
