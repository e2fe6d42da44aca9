// One run of the engine as the app runs it: the built engine host bundle forked as a child
// process (the desktop app starts the same file as a utility process), spoken to over its
// protocol, timed from the token events as they arrive. It answers "how fast is what users
// run", next to the in-process engine run of the same bench. (The engine's layers keep bench/
// below host/, so this client speaks the protocol by its documented messages, validating the
// shapes it reads with the wire schemas; the host validates every request it gets.)
import { fork } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { TextTokenizer } from "../tokenizer/text-tokenizer.js";
import { EngineInfo } from "../../wire/engine.js";
import { GenerationStats, type Sampling } from "../../wire/generation.js";
import { BENCH_TEXT, benchPrompt } from "./bench-text.js";
import { ENGINE_PROCESS_FLAGS } from "../runtime/process-flags.js";
import type { RunResult } from "./llama-cpp-run.js";

export interface AppHostRunResult extends RunResult {
  /** What the host's `info` said of the native kernels. */
  nativeKernels: EngineInfo["nativeKernels"];
  /** Tokens the timed answer had (it may end at the model's end-of-text before the budget). */
  tokens: number;
  /** Anything the host wrote to stderr (a normal start writes nothing). */
  stderr: string;
}

/** Decode tok/s from arrival times: tokens after the first, over the time since the first arrived. */
export function decodeRateFromArrivals(arrivalsMs: readonly number[]): number {
  if (arrivalsMs.length < 2) return 0;
  return ((arrivalsMs.length - 1) * 1000) / (arrivalsMs[arrivalsMs.length - 1] - arrivalsMs[0]);
}

export async function runAppHost(
  hostBundle: string,
  packageDir: string,
  threads: number,
  P: number,
  G: number,
): Promise<AppHostRunResult> {
  const modelsDir = path.dirname(packageDir);
  const modelId = path.basename(packageDir);
  const tokenizer = await packageTokenizer(packageDir);
  // The bench prompt as text: the host tokenizes it again, as it does the app's prompts.
  const prompt = tokenizer.decode(benchPrompt(tokenizer.encode(BENCH_TEXT, { addBos: false }), P, undefined));
  const host = startHost(hostBundle);
  try {
    await host.ready;
    const info = EngineInfo.parse(await host.call("info", {}));
    const t = performance.now();
    const loaded = (await host.call("load", {
      modelsDir,
      modelId,
      threads,
      executionProvider: "cpu",
      contextLength: P + G + 64,
    })) as { kernels: string };
    const loadMs = performance.now() - t;
    const sampling = {
      temperature: 0,
      topP: 1,
      topK: 0,
      minP: 0,
      repetitionPenalty: 1,
      seed: null,
      maxTokens: G,
    };
    // Untimed answers first, as the in-process run warms up before it is timed (three of up to
    // 128 tokens, or two seconds).
    const warmUntil = performance.now() + 2000;
    for (let pass = 0; pass < 3 && performance.now() < warmUntil; pass++)
      await host.generate({
        modelId,
        prompt: prompt.slice(0, 80),
        sampling: { ...sampling, maxTokens: 128 },
      });
    const started = performance.now();
    const { arrivals, stats } = await host.generate({ modelId, prompt, sampling });
    return {
      loadMs,
      prefillTokPerSec: arrivals.length ? (stats.promptTokens ?? P) / ((arrivals[0] - started) / 1000) : 0,
      decodeTokPerSec: decodeRateFromArrivals(arrivals),
      tokens: arrivals.length,
      firstTokens: [],
      kernels: loaded.kernels,
      nativeKernels: info.nativeKernels,
      stderr: host.stderr(),
    };
  } finally {
    host.kill();
  }
}

async function packageTokenizer(dir: string): Promise<TextTokenizer> {
  const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as {
    tokenizer: { file: string; configFile: string };
  };
  const [json, config] = await Promise.all([
    readFile(path.join(dir, manifest.tokenizer.file), "utf8"),
    readFile(path.join(dir, manifest.tokenizer.configFile), "utf8"),
  ]);
  return new TextTokenizer(JSON.parse(json), JSON.parse(config));
}

type GenerateArgs = { modelId: string; prompt: string; sampling: Sampling };
type HostMessage =
  | { event: "ready" }
  | { event: "tokens"; genId: string; tokens: unknown[] }
  | { event: string }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; message: string } };

function startHost(bundle: string) {
  const child = fork(bundle, [], {
    execArgv: [...ENGINE_PROCESS_FLAGS],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "json",
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  let nextId = 1;
  const pending = new Map<number, { resolve(r: unknown): void; reject(e: Error): void }>();
  const tokenListeners = new Set<(genId: string, count: number) => void>();
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) =>
      reject(new Error(`the engine host exited (${code}): ${stderr.slice(-500)}`)),
    ),
  );
  exited.catch(() => undefined);
  child.on("message", (m: HostMessage) => {
    if ("event" in m) {
      if (m.event === "ready") markReady();
      else if (m.event === "tokens" && "tokens" in m)
        for (const l of tokenListeners) l(m.genId, m.tokens.length);
    } else {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(`${m.error.code}: ${m.error.message}`));
    }
  });
  const call = (method: string, params: object): Promise<unknown> => {
    const id = nextId++;
    const reply = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ id, method, params });
    return Promise.race([reply, exited]);
  };
  return {
    ready: Promise.race([ready, exited]),
    call,
    /** One answer; the arrival time of each of its token events. */
    async generate(args: GenerateArgs) {
      const genId = `bench-${nextId}`;
      const arrivals: number[] = [];
      const onToken = (id: string, count: number) => {
        if (id !== genId) return;
        const at = performance.now();
        for (let i = 0; i < count; i++) arrivals.push(at);
      };
      tokenListeners.add(onToken);
      try {
        const stats = GenerationStats.parse(await call("generate", { ...args, genId, knob: 0 }));
        return { arrivals, stats };
      } finally {
        tokenListeners.delete(onToken);
      }
    },
    stderr: () => stderr,
    kill: () => void child.kill(),
  };
}
