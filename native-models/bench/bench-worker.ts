// Child process for one benchmark run, so each engine's peak RSS is its own.
// argv[2] is a JSON job; one JSON line of results goes to stdout.
import { runLlamaCpp } from "./llama-cpp-run.js";
import { runEngine, type EngineMode } from "./engine-run.js";
import { peakRssMB } from "./bench-text.js";

export interface BenchJob {
  engine: "exitlane" | "llamacpp";
  gguf: string;
  packageDir: string;
  threads: number;
  promptTokens: number;
  genTokens: number;
  mode?: EngineMode;
}

const job = JSON.parse(process.argv[2]) as BenchJob;
const result =
  job.engine === "llamacpp"
    ? await runLlamaCpp(job.gguf, job.threads, job.promptTokens, job.genTokens)
    : await runEngine(job.packageDir, job.threads, job.promptTokens, job.genTokens, job.mode ?? { kind: "full" });
process.stdout.write(JSON.stringify({ ...result, peakRssMB: peakRssMB() }) + "\n");
