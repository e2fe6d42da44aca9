// onnxruntime sessions with the options measured to be fastest here, and execution-provider
// fallback: a GPU provider that fails to load falls back to CPU, and the caller is told.
import type * as ort from "onnxruntime-node";
import { loadOnnxRuntime } from "./onnx-runtime.js";

export interface SessionOptions {
  threads: number;
  /** "cpu" (default) or a GPU provider the engine reports: "webgpu", "dml", "coreml", "cuda". */
  executionProvider: string;
}

export function ortSessionOptions(
  o: SessionOptions,
  provider = o.executionProvider,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider as ort.InferenceSession.ExecutionProviderConfig],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // One session per layer means one thread pool per layer: spinning pools of idle layers steal
    // the cores of the running one. Measured: 2.8 ms -> 0.95 ms per TinyLlama layer with it off.
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
    // Each session would keep its own arena sized for the largest prefill chunk it saw: with one
    // session per layer that was ~20 MB x layers of idle memory (TinyLlama: +400 MB peak RSS).
    enableCpuMemArena: false,
  };
}

export interface ProviderChoice {
  provider: string;
  /** Set when the requested provider failed and CPU is used instead. */
  fallbackNotice?: string;
}

/** Creates every session on the requested provider, or all of them on CPU if any fails. */
export async function createSessions(
  files: string[],
  o: SessionOptions,
  onEach?: (done: number, total: number) => void,
): Promise<{ sessions: ort.InferenceSession[]; choice: ProviderChoice }> {
  const runtime = await loadOnnxRuntime();
  const attempt = async (provider: string) => {
    const sessions: ort.InferenceSession[] = [];
    try {
      for (const f of files) {
        sessions.push(await runtime.InferenceSession.create(f, ortSessionOptions(o, provider)));
        onEach?.(sessions.length, files.length);
      }
      return sessions;
    } catch (err) {
      await Promise.all(sessions.map((s) => s.release()));
      throw err;
    }
  };
  if (o.executionProvider === "cpu") return { sessions: await attempt("cpu"), choice: { provider: "cpu" } };
  try {
    return { sessions: await attempt(o.executionProvider), choice: { provider: o.executionProvider } };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return {
      sessions: await attempt("cpu"),
      choice: {
        provider: "cpu",
        fallbackNotice: `${o.executionProvider} failed (${reason}); running on CPU`,
      },
    };
  }
}
