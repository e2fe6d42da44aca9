// bench: our engine vs llama.cpp (node-llama-cpp) on the same GGUF, same threads, prompt and
// token budget, alternating runs (each in its own process), medians out.
import { fork } from "node:child_process";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { importModel } from "../engine/import-model.js";
import { listPackages } from "../package/models-dir.js";
import { defaultModelsDir } from "../package/default-dirs.js";
import type { Manifest } from "../package/manifest.js";
import type { BenchJob } from "../bench/bench-worker.js";
import { median } from "../bench/bench-text.js";
import { int, num, oneOf, parse, printJson, UsageError } from "./args.js";
import { loadSparseKernel } from "../sparse/index.js";
import { progressPrinter } from "./progress.js";

const workerPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "../bench/bench-worker.ts");

interface RunOut {
  loadMs: number;
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  peakRssMB: number | null;
  meanExitLayer?: number;
  activeNeuronShare?: number;
  exitOverhead?: Record<string, number>;
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
    "exit-at": { type: "string" },
    kv: { type: "string" },
    sparsity: { type: "string" },
    "skip-llama": { type: "boolean" },
    json: { type: "boolean" },
  });
  if (!values.gguf) throw new UsageError("--gguf <file> is required");
  const gguf = path.resolve(values.gguf);
  const threads = int(values.threads, "threads", 2, 1, 256);
  const P = int(values["prompt-tokens"], "prompt-tokens", 128, 1, 65536);
  const G = int(values["gen-tokens"], "gen-tokens", 128, 1, 65536);
  const runs = int(values.runs, "runs", 3, 1, 100);
  const quant = oneOf(values.quant, "quant", ["int4", "int8", "f16", "f32"] as const, "int4");
  const blockSize = values["block-size"] ? int(values["block-size"], "block-size", 32, 16, 4096) : undefined;
  const kvMode = oneOf(values.kv, "kv", ["masked", "deferred"] as const, "masked");
  const modelsDir = values["models-dir"] ?? defaultModelsDir();

  const manifest = await findOrImport(gguf, modelsDir, quant, blockSize);
  const packageDir = path.join(modelsDir, manifest.id);
  const exitAt = values["exit-at"] ? int(values["exit-at"], "exit-at", 1, 1, manifest.config.numLayers) : undefined;
  const sparsity = values.sparsity !== undefined ? num(values.sparsity, "sparsity", 0.5, 0, 0.95) : undefined;
  if (sparsity !== undefined && !manifest.sparse) {
    throw new UsageError(`${manifest.id} has no sparse FFN form: the native kernel was not available when it was imported (${loadSparseKernel().detail})`);
  }
  const base: Omit<BenchJob, "engine"> = { gguf, packageDir, threads, promptTokens: P, genTokens: G };

  const results: Record<string, RunOut[]> = { engine: [], llamaCpp: [], exitAt: [], sparse: [] };
  for (let r = 0; r < runs; r++) {
    const order: [string, BenchJob][] = [["engine", { ...base, engine: "exitlane" }]];
    if (!values["skip-llama"]) order.push(["llamaCpp", { ...base, engine: "llamacpp" }]);
    if (exitAt) order.push(["exitAt", { ...base, engine: "exitlane", exitAt, kvMode }]);
    if (sparsity !== undefined) order.push(["sparse", { ...base, engine: "exitlane", sparsity }]);
    if (r % 2) order.reverse();
    for (const [key, job] of order) {
      const out = await runWorker(job);
      results[key].push(out);
      process.stderr.write(`run ${r + 1}/${runs} ${key}: prefill ${out.prefillTokPerSec.toFixed(1)} tok/s, decode ${out.decodeTokPerSec.toFixed(2)} tok/s, peak RSS ${out.peakRssMB} MB\n`);
    }
  }

  const summarise = (xs: RunOut[]) => ({
    loadMs: round(median(xs.map((x) => x.loadMs))),
    prefillTokensPerSecond: round(median(xs.map((x) => x.prefillTokPerSec))),
    decodeTokensPerSecond: round(median(xs.map((x) => x.decodeTokPerSec))),
    peakRssMB: Math.max(...xs.map((x) => x.peakRssMB ?? 0)),
    decodeRuns: xs.map((x) => round(x.decodeTokPerSec)),
  });
  const weightBytes = await loadedWeightBytes(packageDir, manifest, false);
  const engine = { ...summarise(results.engine), weightBytes, quant, blockSize: manifest.blockSize };
  const out: Record<string, unknown> = {
    gguf: path.basename(gguf),
    threads,
    promptTokens: P,
    genTokens: G,
    runs,
    cpu: os.cpus()[0]?.model,
    engine: { ...engine, rssOverWeights: round(engine.peakRssMB / (weightBytes / 2 ** 20)) },
  };
  if (!values["skip-llama"]) {
    const llamaCpp = summarise(results.llamaCpp);
    out.llamaCpp = { ...llamaCpp, mmap: false };
    out.ratio = {
      decode: round(engine.decodeTokensPerSecond / llamaCpp.decodeTokensPerSecond),
      prefill: round(engine.prefillTokensPerSecond / llamaCpp.prefillTokensPerSecond),
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
      // Per checked layer: features + predictor; per verification (or draft-layer candidates): one LM head.
      overhead: results.exitAt[results.exitAt.length - 1]?.exitOverhead,
    };
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

/** Bytes of the weight files a run actually loads (dense layers, or attention graphs + sparse FFNs). */
async function loadedWeightBytes(dir: string, m: Manifest, sparse: boolean): Promise<number> {
  const layerFiles = sparse ? [...m.graphs.attention.map(bin), ...(m.sparse?.ffn ?? [])] : m.graphs.layers.map(bin);
  let total = 0;
  for (const f of [...layerFiles, bin(m.graphs.head), m.embedding.file]) total += (await stat(path.join(dir, f))).size;
  return total;
}

function bin(graph: string): string {
  return graph.replace(/\.onnx$/, ".bin");
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function findOrImport(gguf: string, modelsDir: string, quant: string, blockSize?: number): Promise<Manifest> {
  const bytes = (await stat(gguf)).size;
  const { models } = await listPackages(modelsDir);
  const found = models.find(
    (m) => m.source.path === gguf && m.source.bytes === bytes && m.quant === quant && (blockSize === undefined || m.blockSize === blockSize),
  );
  if (found) return found;
  process.stderr.write(`importing ${path.basename(gguf)} (${quant}) into ${modelsDir}\n`);
  const r = await importModel(gguf, { modelsDir, quant: quant as Manifest["quant"], blockSize, onProgress: progressPrinter(), threads: 2 });
  process.stderr.write(`imported in ${r.seconds.toFixed(1)} s\n`);
  return r.manifest;
}

function runWorker(job: BenchJob): Promise<RunOut> {
  return new Promise((resolve, reject) => {
    const child = fork(workerPath, [JSON.stringify(job)], { execArgv: process.execArgv, stdio: ["ignore", "pipe", "inherit", "ipc"] });
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
