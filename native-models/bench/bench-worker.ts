// Child process for one benchmark run, so each engine's peak RSS is its own.
// argv[2] is a JSON job; one JSON line of results goes to stdout.
import { runLlamaCpp } from "./llama-cpp-run.js";
import { runEngine, type EngineMode } from "./engine-run.js";
import { peakRssMB } from "./bench-text.js";
import { compareWithLlamaCpp } from "./quality.js";
import { runAppHost } from "./app-host-run.js";

export interface BenchJob {
  /**
   * "quality": our distributions against llama.cpp's on the same file (bench --quality);
   * "appHost": the built engine host bundle `hostBundle`, forked as the app forks it.
   */
  engine: "exitlane" | "llamacpp" | "quality" | "appHost";
  hostBundle?: string;
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
    : job.engine === "quality"
      ? await compareWithLlamaCpp(job.packageDir, job.gguf, job.threads, job.promptTokens)
      : job.engine === "appHost"
        ? await runAppHost(job.hostBundle!, job.packageDir, job.threads, job.promptTokens, job.genTokens)
        : await runEngine(
            job.packageDir,
            job.threads,
            job.promptTokens,
            job.genTokens,
            job.mode ?? { kind: "full" },
          );
// An engine run says its own peak (before bench's extra measurements); the others peak here.
const peak = "peakRssMB" in result ? result.peakRssMB : peakRssMB();
process.stdout.write(JSON.stringify({ ...result, peakRssMB: peak }) + "\n");
