// One llama.cpp run (through node-llama-cpp, CPU only, never building or downloading anything):
// load, prefill a P-token prompt in one batch, then G single-token greedy decode steps.
// node-llama-cpp is a dev dependency used only as the speed baseline.
import { BENCH_TEXT, benchPrompt } from "./bench-text.js";

export interface RunResult {
  loadMs: number;
  prefillTokPerSec: number;
  decodeTokPerSec: number;
  firstTokens: number[];
  /** Which CPU kernels ran: llama.cpp's CPU variant (e.g. "sapphirerapids"), or our kernel set. */
  kernels?: string;
}

export async function runLlamaCpp(gguf: string, threads: number, P: number, G: number): Promise<RunResult> {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  // ggml loads its best CPU variant for this machine and says which in a log line.
  let variant: string | undefined;
  const llama = await getLlama({
    gpu: false,
    build: "never",
    maxThreads: 0,
    logLevel: LlamaLogLevel.debug,
    logger: (_level, message) => {
      const m = message.match(/loaded CPU backend from .*libggml-cpu-([\w-]+)\.(so|dll|dylib)/);
      if (m) variant = m[1];
    },
  });
  let t = performance.now();
  // mmap off: llama.cpp's honest memory need (with mmap, touched file pages also count as RSS).
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0, useMmap: false });
  const loadMs = performance.now() - t;
  const prompt = benchPrompt(model.tokenize(BENCH_TEXT, false) as number[], P, model.tokens.bos ?? undefined);
  const context = await model.createContext({
    contextSize: Math.ceil((P + G + 16) / 256) * 256,
    batchSize: Math.max(512, P),
    threads: { ideal: threads, min: threads },
  });
  const seq = context.getSequence();
  // Untimed warm-up, as for our engine: a short prompt and up to 128 tokens or two seconds.
  const warm = seq.evaluate(prompt.slice(0, 16) as never, { temperature: 0, yieldEogToken: true });
  const warmUntil = performance.now() + 2000;
  for (let i = 0; i < 128 && performance.now() < warmUntil; i++) await warm.next();
  await warm.return(undefined);
  await seq.clearHistory();

  const gen = seq.evaluate(prompt as never, { temperature: 0, yieldEogToken: true });
  t = performance.now();
  const first = await gen.next();
  const prefillMs = performance.now() - t;
  const out: number[] = [first.value as number];
  t = performance.now();
  for (let i = 0; i < G; i++) out.push((await gen.next()).value as number);
  const decodeMs = performance.now() - t;
  await gen.return(undefined);
  await context.dispose();
  await model.dispose();
  return {
    loadMs,
    prefillTokPerSec: P / (prefillMs / 1000),
    decodeTokPerSec: G / (decodeMs / 1000),
    firstTokens: out.slice(0, 8),
    kernels: variant,
  };
}
