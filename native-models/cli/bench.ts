// bench: our engine vs llama.cpp (node-llama-cpp) on the same GGUF, same threads, prompt and
// token budget, alternating runs (each in its own process), medians out.
import { fork } from "node:child_process";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultQuant, importModel } from "../engine/import-model.js";
import { keepsSourceForm } from "../../wire/model.js";
import { openModelSource } from "../formats/open-model.js";
import { listPackages } from "../package/models-dir.js";
import { defaultModelsDir } from "../package/default-dirs.js";
import type { Manifest } from "../package/manifest.js";
import type { BenchJob } from "../bench/bench-worker.js";
import { median } from "../bench/bench-text.js";
import { int, num, oneOf, parse, printJson, UsageError } from "./args.js";
import { loadNativeKernels } from "../kernels/index.js";
import { progressPrinter } from "./progress.js";
import { calibrateModel } from "../engine/calibrate-model.js";
import type { ExitOverhead } from "../bench/exit-overhead.js";
import { readFile } from "node:fs/promises";
import {
  bandwidthUse,
  engineBytesPerToken,
  filesBytes,
  ggufBytesPerToken,
  readBandwidthGBps,
} from "../bench/bandwidth.js";
import { startBackgroundLoad } from "../bench/background-load.js";
import type { MultiTokenCost } from "../bench/multi-token.js";
import type { EngineRunResult } from "../bench/engine-run.js";
import type { QualityVsLlamaCpp } from "../bench/quality.js";
import { grammarCost } from "../bench/grammar-cost.js";
import { ENGINE_PROCESS_FLAGS } from "../runtime/process-flags.js";
import { keptFileFormBytes } from "../runtime/kept-file-layout.js";

// From source, the worker's TypeScript (through the same tsx loader); from the bundle
// dist/cli/cli.mjs, the worker bundle beside it.
const here = fileURLToPath(import.meta.url);
const bundled = here.endsWith(".mjs");
const workerPath = bundled
  ? path.join(path.dirname(here), "bench-worker.mjs")
  : path.join(path.dirname(here), "../bench/bench-worker.ts");

interface RunOut {
  multiToken?: MultiTokenCost;
  loadMs: number;
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  peakRssMB: number | null;
  meanExitLayer?: number;
  activeNeuronShare?: number;
  exitOverhead?: ExitOverhead;
  acceptedPerRound?: number;
  sameProcess?: EngineRunResult["sameProcess"];
  kernels?: string;
  nativeKernels?: { available: boolean; kernels: string[]; detail: string };
  tokens?: number;
  stderr?: string;
}

export async function benchCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    gguf: { type: "string" },
    threads: { type: "string" },
    "prompt-tokens": { type: "string" },
    "gen-tokens": { type: "string" },
    runs: { type: "string" },
    quant: { type: "string" },
    "block-size": { type: "string" },
    "models-dir": { type: "string" },
    exit: { type: "string" },
    lossless: { type: "boolean" },
    calibrate: { type: "boolean" },
    "project-from": { type: "string" },
    "exit-at": { type: "string" },
    kv: { type: "string" },
    sparsity: { type: "string" },
    "skip-llama": { type: "boolean" },
    "background-load": { type: "string" },
    quality: { type: "boolean" },
    "app-host": { type: "string" },
    grammar: { type: "boolean" },
    seeds: { type: "string" },
    json: { type: "boolean" },
  });
  if (!values.gguf) throw new UsageError("--gguf <file> is required");
  const gguf = path.resolve(values.gguf);
  const threads = int(values.threads, "threads", 2, 1, 256);
  const P = int(values["prompt-tokens"], "prompt-tokens", 128, 1, 65536);
  const G = int(values["gen-tokens"], "gen-tokens", 128, 1, 65536);
  const runs = int(values.runs, "runs", 3, 1, 100);
  // Absent: what an import does by default (a quantized file as it is).
  const quant =
    values.quant === undefined
      ? await defaultQuantOf(gguf)
      : oneOf(values.quant, "quant", ["int4", "int8", "f16", "f32"] as const, "int4");
  const blockSize = values["block-size"] ? int(values["block-size"], "block-size", 32, 16, 4096) : undefined;
  const kvMode = oneOf(values.kv, "kv", ["masked", "deferred"] as const, "deferred");
  const modelsDir = values["models-dir"] ?? defaultModelsDir();
  const knob = values.exit !== undefined ? num(values.exit, "exit", 0.5, 0.01, 1) : undefined;

  let manifest = await findOrImport(gguf, modelsDir, quant, blockSize);
  const packageDir = path.join(modelsDir, manifest.id);
  if (values.grammar) {
    // Constrained decoding's per-token mask cost against this model's decode step (only that).
    const seeds = int(values.seeds, "seeds", 3, 1, 50);
    printJson({ grammar: await grammarCost(modelsDir, manifest.id, threads, { maxTokens: G, seeds }) });
    return;
  }
  // Early exit and self-drafting need a calibration; lossless prompt lookup does not.
  if ((knob !== undefined || values.calibrate) && !manifest.calibration) {
    if (!values.calibrate)
      throw new UsageError(
        `${manifest.id} is not calibrated for early exit: add --calibrate (or run calibrate --model ${manifest.id})`,
      );
    process.stderr.write(`calibrating ${manifest.id}\n`);
    const t = performance.now();
    manifest = (
      await calibrateModel(manifest.id, { modelsDir, threads }, { onProgress: progressPrinter() as never })
    ).manifest;
    process.stderr.write(`calibrated in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const exitAt = values["exit-at"]
    ? int(values["exit-at"], "exit-at", 1, 1, manifest.config.numLayers)
    : undefined;
  const sparsity = values.sparsity !== undefined ? num(values.sparsity, "sparsity", 0.5, 0, 0.95) : undefined;
  if (sparsity !== undefined && !manifest.native) {
    throw new UsageError(
      `${manifest.id} has no sparse FFN form: the native kernel was not available when it was imported (${loadNativeKernels().detail})`,
    );
  }
  const base: Omit<BenchJob, "engine"> = { gguf, packageDir, threads, promptTokens: P, genTokens: G };
  const loadThreads = values["background-load"]
    ? int(values["background-load"], "background-load", 1, 1, 64)
    : 0;

  const bandwidth = [readBandwidthGBps(threads)];
  const results: Record<string, RunOut[]> = {
    engine: [],
    llamaCpp: [],
    exit: [],
    lossless: [],
    exitAt: [],
    sparse: [],
    engineLoaded: [],
    llamaCppLoaded: [],
    appHost: [],
  };
  const hostBundle = values["app-host"] ? path.resolve(values["app-host"]) : undefined;
  for (let r = 0; r < runs; r++) {
    // The last round's full-depth run also measures the multi-token step costs.
    const order: [string, BenchJob][] = [
      ["engine", { ...base, engine: "exitlane", mode: { kind: "full", multiToken: r === runs - 1 } }],
    ];
    if (!values["skip-llama"]) order.push(["llamaCpp", { ...base, engine: "llamacpp" }]);
    if (knob !== undefined)
      order.push(["exit", { ...base, engine: "exitlane", mode: { kind: "exit", knob } }]);
    if (values.lossless)
      order.push(["lossless", { ...base, engine: "exitlane", mode: { kind: "lossless" } }]);
    if (exitAt)
      order.push([
        "exitAt",
        { ...base, engine: "exitlane", mode: { kind: "exitAt", layer: exitAt, kvMode } },
      ]);
    if (sparsity !== undefined)
      order.push(["sparse", { ...base, engine: "exitlane", mode: { kind: "sparse", sparsity } }]);
    if (hostBundle) order.push(["appHost", { ...base, engine: "appHost", hostBundle }]);
    if (r % 2) order.reverse();
    for (const [key, job] of order) {
      const out = await runWorker(job);
      results[key].push(out);
      process.stderr.write(
        `run ${r + 1}/${runs} ${key}: prefill ${out.prefillTokPerSec.toFixed(1)} tok/s, decode ${out.decodeTokPerSec.toFixed(2)} tok/s, peak RSS ${out.peakRssMB} MB\n`,
      );
    }
    if (loadThreads) {
      // The same pair again while another process keeps `loadThreads` threads busy.
      const loaded: [string, BenchJob][] = [
        ["engineLoaded", { ...base, engine: "exitlane", mode: { kind: "full" } }],
      ];
      if (!values["skip-llama"]) loaded.push(["llamaCppLoaded", { ...base, engine: "llamacpp" }]);
      if (r % 2) loaded.reverse();
      const load = await startBackgroundLoad(loadThreads);
      try {
        for (const [key, job] of loaded) {
          const out = await runWorker(job);
          results[key].push(out);
          process.stderr.write(
            `run ${r + 1}/${runs} ${key} (${loadThreads} busy threads beside it): decode ${out.decodeTokPerSec.toFixed(2)} tok/s\n`,
          );
        }
      } finally {
        load.kill();
      }
    }
  }
  bandwidth.push(readBandwidthGBps(threads));
  const limit = bandwidth.every((b) => b !== null) ? round(median(bandwidth as number[])) : null;

  const summarise = (xs: RunOut[]) => ({
    loadMs: round(median(xs.map((x) => x.loadMs))),
    prefillTokensPerSecond: round(median(xs.map((x) => x.prefillTokPerSec))),
    decodeTokensPerSecond: round(median(xs.map((x) => x.decodeTokPerSec))),
    peakRssMB: Math.max(...xs.map((x) => x.peakRssMB ?? 0)),
    decodeRuns: xs.map((x) => round(x.decodeTokPerSec)),
  });
  const weightBytes = await loadedWeightBytes(packageDir, manifest, false);
  const engine = {
    ...summarise(results.engine),
    weightBytes,
    quant,
    blockSize: manifest.blockSize,
    kernels: results.engine[0]?.kernels,
  };
  const multiToken = results.engine[results.engine.length - 1]?.multiToken;
  const out: Record<string, unknown> = {
    gguf: path.basename(gguf),
    threads,
    promptTokens: P,
    genTokens: G,
    runs,
    cpu: os.cpus()[0]?.model,
    // Sustained read bandwidth before and after the runs (GB/s): the ceiling batch-1 decode approaches.
    memoryBandwidth: { readGBps: limit, probes: bandwidth.map((b) => (b === null ? null : round(b))) },
    engine: {
      ...engine,
      rssOverWeights: round(engine.peakRssMB / (weightBytes / 2 ** 20)),
      ...bandwidthUse(await engineBytesPerToken(packageDir, manifest), engine.decodeTokensPerSecond, limit),
    },
    ...(multiToken ? { multiToken } : {}),
  };
  if (!values["skip-llama"]) {
    const llamaCpp = summarise(results.llamaCpp);
    out.llamaCpp = {
      ...llamaCpp,
      mmap: false,
      cpuVariant: results.llamaCpp[0]?.kernels,
      ...bandwidthUse(await ggufBytesPerToken(gguf), llamaCpp.decodeTokensPerSecond, limit),
    };
    out.ratio = {
      decode: pairedSpeedup(results.engine, results.llamaCpp),
      prefill: round(engine.prefillTokensPerSecond / llamaCpp.prefillTokensPerSecond),
    };
  }
  if (hostBundle) {
    // The app's engine host against the in-process engine of the same rounds (full depth, greedy).
    const a = summarise(results.appHost);
    const last = results.appHost[results.appHost.length - 1];
    out.appHost = {
      bundle: path.relative(process.cwd(), hostBundle),
      decodeTokensPerSecond: a.decodeTokensPerSecond,
      prefillTokensPerSecond: a.prefillTokensPerSecond,
      decodeRuns: a.decodeRuns,
      tokensPerRun: results.appHost.map((x) => x.tokens),
      kernels: last?.kernels,
      nativeKernels: last?.nativeKernels,
      stderrLines: (last?.stderr ?? "").split("\n").filter((l) => l.trim()).length,
      timing: "decode from the arrival times of the host's token events",
      decodeVsEngine: pairedSpeedup(results.appHost, results.engine),
    };
  }
  if (values.quality) {
    // Teacher-forced over the prompt: our int4/int8 against what llama.cpp computes from the file.
    const { peakRssMB: _, ...quality } = (await runWorker({
      ...base,
      engine: "quality",
    })) as unknown as QualityVsLlamaCpp & { peakRssMB: number };
    out.qualityVsLlamaCpp = quality;
  }
  if (loadThreads) {
    // Decode under load against the quiet runs of the same rounds; loss = 1 - loaded / quiet.
    const under = (loaded: RunOut[], quiet: RunOut[]) => ({
      decodeTokensPerSecond: summarise(loaded).decodeTokensPerSecond,
      quietDecodeTokensPerSecond: summarise(quiet).decodeTokensPerSecond,
      loss: round(1 - pairedSpeedup(loaded, quiet)),
      decodeRuns: summarise(loaded).decodeRuns,
    });
    out.backgroundLoad = {
      busyThreads: loadThreads,
      engine: under(results.engineLoaded, results.engine),
      ...(values["skip-llama"] ? {} : { llamaCpp: under(results.llamaCppLoaded, results.llamaCpp) }),
    };
  }
  if (knob !== undefined) {
    const e = summarise(results.exit);
    out.exit = {
      knob,
      decodeTokensPerSecond: e.decodeTokensPerSecond,
      fullDepthDecodeTokensPerSecond: engine.decodeTokensPerSecond,
      speedup: pairedSpeedup(results.exit, results.engine),
      meanExitLayer: round(median(results.exit.map((x) => x.meanExitLayer ?? manifest.config.numLayers))),
      layers: manifest.config.numLayers,
      decodeRuns: e.decodeRuns,
      // The exit machinery per token, next to one decode layer of this model on this machine.
      machinery: results.exit[results.exit.length - 1]?.exitOverhead,
    };
  }
  if (values.lossless) {
    // Side by side within each lossless worker (full depth and lossless alternated after its
    // timed run): every process has its own speed, so the ratio is taken inside one.
    const pairs = results.lossless.flatMap((x) => x.sameProcess?.ratios ?? []);
    const full = results.lossless.flatMap((x) => x.sameProcess?.fullDepth ?? []);
    const fast = results.lossless.flatMap((x) => x.sameProcess?.lossless ?? []);
    out.lossless = {
      decodeTokensPerSecond: round(median(fast)),
      fullDepthDecodeTokensPerSecond: round(median(full)),
      speedup: round(median(pairs)),
      acceptedPerRound: round(median(results.lossless.map((x) => x.acceptedPerRound ?? 0))),
      speedupRuns: pairs.map(round),
      // Against the separate full-depth workers instead (each worker's own speed in the ratio).
      speedupAcrossProcesses: pairedSpeedup(results.lossless, results.engine),
      decodeRuns: summarise(results.lossless).decodeRuns,
    };
  }
  if (exitAt) {
    const e = summarise(results.exitAt);
    out.exitAt = {
      layer: exitAt,
      kvMode,
      decodeTokensPerSecond: e.decodeTokensPerSecond,
      fullDepthDecodeTokensPerSecond: engine.decodeTokensPerSecond,
      speedupVsFullDepth: round(e.decodeTokensPerSecond / engine.decodeTokensPerSecond),
      decodeRuns: e.decodeRuns,
      // Per check: exit head + shortlist head; per self-draft: one LM head.
      overhead: results.exitAt[results.exitAt.length - 1]?.exitOverhead,
      ...(kvMode === "deferred"
        ? { note: "every token exits, so no pending layer ever runs: a cost probe, not a decode speed" }
        : {}),
    };
    const from = values["project-from"];
    const overhead = results.exitAt[results.exitAt.length - 1]?.exitOverhead;
    const multiToken = results.engine[results.engine.length - 1]?.multiToken;
    if (from && overhead && multiToken)
      out.projection = await projectSpeedup(
        modelsDir,
        from,
        manifest,
        overhead,
        multiToken,
        engine.decodeTokensPerSecond,
      );
  }
  if (sparsity !== undefined) {
    const s = summarise(results.sparse);
    out.sparse = {
      sparsity,
      activeNeuronShare: round(median(results.sparse.map((x) => x.activeNeuronShare ?? 1))),
      decodeTokensPerSecond: s.decodeTokensPerSecond,
      denseDecodeTokensPerSecond: engine.decodeTokensPerSecond,
      speedupVsDense: round(s.decodeTokensPerSecond / engine.decodeTokensPerSecond),
      peakRssMB: s.peakRssMB,
      rssOverWeights: round(s.peakRssMB / ((await loadedWeightBytes(packageDir, manifest, true)) / 2 ** 20)),
      decodeRuns: s.decodeRuns,
    };
  }
  if (values.json) printJson(out);
  else process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

/**
 * Early exit at this model's size, projected from another (trained) model's measured exit
 * statistics: its curve's share of layers executed per knob, applied to this model's measured
 * per-layer, pending-row and check costs. Random weights never exit, so this is the only honest
 * way to say what exit would do at a size where no trained weights are at hand; it assumes tokens
 * leave at the same relative depth.
 */
async function projectSpeedup(
  modelsDir: string,
  from: string,
  target: Manifest,
  o: ExitOverhead,
  rows: MultiTokenCost,
  fullTokPerSec: number,
) {
  const source = (await listPackages(modelsDir)).models.find((m) => m.id === from);
  if (!source?.calibration)
    throw new UsageError(`--project-from: no calibrated model "${from}" in ${modelsDir}`);
  const policy = JSON.parse(
    await readFile(path.join(modelsDir, source.id, source.calibration.file), "utf8"),
  ) as { checkLayers?: number[] };
  const L = target.config.numLayers;
  const fullMs = 1000 / fullTokPerSec;
  // A skipped layer still runs later for its exact K/V, as one more row of the next deep token's
  // pass: its cost is the slope of a layer's cost over the rows of a step (least squares over the
  // measured 1/2/4/8-row steps). A forced exit at every token cannot show it: its pending rows
  // never run.
  const pts = Object.entries(rows.layer).map(([n, ms]) => [Number(n), ms] as const);
  const mean = (f: (p: readonly [number, number]) => number) =>
    pts.reduce((a, p) => a + f(p), 0) / pts.length;
  const [mx, my] = [mean((p) => p[0]), mean((p) => p[1])];
  const slope =
    mean((p) => (p[0] - mx) * (p[1] - my)) /
    Math.max(
      1e-9,
      mean((p) => (p[0] - mx) ** 2),
    );
  // A layer's share of the full-depth step measured in this run (the forced-exit probe's own layer
  // time comes from a separate, shorter measurement, which drifted up to 2x from it here).
  const layerMs = Math.max(0, (fullMs - (rows.head["1"] ?? o.headMs)) / L);
  const rowMs = Math.min(layerMs, Math.max(0, slope));
  const checks = policy.checkLayers?.length ?? 1;
  return {
    from: source.id,
    assumption: "tokens exit at the same share of depth as on the source model; costs measured on this model",
    perLayerMs: round(layerMs * 1000) / 1000,
    pendingRowMsPerLayer: round(rowMs * 1000) / 1000,
    checkMs: round(o.checkUs) / 1000,
    checksPerToken: checks,
    points: source.calibration.curve.map((c) => {
      const executed = (c.meanExitLayer / source.config.numLayers) * L;
      const ms = fullMs - (L - executed) * (layerMs - rowMs) + checks * (o.checkUs / 1000);
      return {
        knob: c.knob,
        agreementOnSource: c.agreement,
        executedLayers: round(executed),
        speedup: round(fullMs / ms),
      };
    }),
  };
}

/**
 * Speed of `a` over `b` as the median of per-round ratios: runs of one round are adjacent in time,
 * so a machine that slows down for a while (another process, thermal) moves both alike.
 */
function pairedSpeedup(a: RunOut[], b: RunOut[]): number {
  return round(median(a.map((x, i) => x.decodeTokPerSec / b[i].decodeTokPerSec)));
}

/**
 * The model's weight bytes, the reference for peak RSS: its quantized layers, head and embedding
 * (a one-copy package's native files, or what the kernels lay out from a kept GGUF; otherwise
 * onnxruntime's), or with `sparse` the files a sparse run loads (native attention or attention
 * graphs, the FFNs' per-neuron rows, the head).
 */
async function loadedWeightBytes(dir: string, m: Manifest, sparse: boolean): Promise<number> {
  const n = m.native;
  if (n?.kept) return (await keptFileFormBytes(dir, m)) + m.embedding.data.length;
  if (n && m.graphs.layers.length === 0)
    return filesBytes(dir, [
      ...(n.attention ?? []),
      ...(n.dense ?? []),
      ...(n.head ? [n.head] : []),
      m.embedding.file,
    ]);
  const nativeAttention = m.native?.attention?.length === m.config.numLayers;
  const layerFiles = sparse
    ? [...(nativeAttention ? m.native!.attention! : m.graphs.attention.map(bin)), ...(m.native?.ffn ?? [])]
    : m.graphs.layers.map(bin);
  const head = sparse && m.native?.head ? m.native.head : bin(m.graphs.head);
  return filesBytes(dir, [...layerFiles, head, m.embedding.file]);
}

function bin(graph: string): string {
  return graph.replace(/\.onnx$/, ".bin");
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function defaultQuantOf(file: string): Promise<Manifest["quant"]> {
  const source = await openModelSource(path.resolve(file));
  try {
    return defaultQuant(source);
  } finally {
    await source.close();
  }
}

async function findOrImport(
  gguf: string,
  modelsDir: string,
  quant: string,
  blockSize?: number,
): Promise<Manifest> {
  const bytes = (await stat(gguf)).size;
  const { models } = await listPackages(modelsDir);
  const found = models.find(
    (m) =>
      m.source.path === gguf &&
      m.source.bytes === bytes &&
      m.quant === quant &&
      // Packages from before the file's form was kept as it is now rounded some of it again, or
      // hold it in a form this engine no longer reads.
      !!m.sourceBlocks &&
      keepsSourceForm(m.sourceBlocks) &&
      (blockSize === undefined || m.blockSize === blockSize),
  );
  if (found) return found;
  process.stderr.write(`importing ${path.basename(gguf)} (${quant}) into ${modelsDir}\n`);
  const r = await importModel(gguf, {
    modelsDir,
    quant: quant as Manifest["quant"],
    blockSize,
    onProgress: progressPrinter(),
    threads: 2,
  });
  process.stderr.write(`imported in ${r.seconds.toFixed(1)} s\n`);
  return r.manifest;
}

function runWorker(job: BenchJob): Promise<RunOut> {
  return new Promise((resolve, reject) => {
    const child = fork(workerPath, [JSON.stringify(job)], {
      execArgv: [...ENGINE_PROCESS_FLAGS, ...(bundled ? [] : process.execArgv)],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    let stdout = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${job.engine} benchmark run failed (exit ${code})`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop()!));
      } catch {
        reject(new Error(`${job.engine} benchmark run printed no result: ${stdout.slice(-500)}`));
      }
    });
  });
}
