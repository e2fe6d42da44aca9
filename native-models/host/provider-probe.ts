// Which execution providers can actually run here. onnxruntime lists every provider its binding
// was built with (the Linux x64 build lists CUDA and TensorRT on machines without a GPU), so each
// one other than the CPU is tried once on a one-node graph; only those that create a session and
// run it are offered. The answer is kept for the life of the engine host.
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../convert/onnx-builder.js";

export interface ListedProvider {
  name: string;
  bundled: boolean;
}

/** Tries a provider; resolves true when a session runs on it. */
export type ProviderTrial = (name: string) => Promise<boolean>;

let cached: Promise<ListedProvider[]> | null = null;

/** The listed providers that run here (the CPU always does); probed once per process. */
export function runnableProviders(
  listed: readonly ListedProvider[],
  trial: ProviderTrial = tryProvider,
): Promise<ListedProvider[]> {
  if (trial !== tryProvider) return filterRunnable(listed, trial);
  cached ??= filterRunnable(listed, trial);
  return cached;
}

async function filterRunnable(listed: readonly ListedProvider[], trial: ProviderTrial) {
  const out: ListedProvider[] = [];
  for (const p of listed) {
    if (p.name === "cpu" || (await trial(p.name).catch(() => false))) out.push(p);
  }
  return out;
}

/** Creates and runs an Identity graph on `name` alone, with onnxruntime's own error log silenced. */
export async function tryProvider(name: string): Promise<boolean> {
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(identityGraph(), {
      executionProviders: [name as ort.InferenceSession.ExecutionProviderConfig],
      logSeverityLevel: 4,
    });
    const out = await session.run({ x: new ort.Tensor("float32", new Float32Array([1]), [1]) });
    return out.y?.data[0] === 1;
  } catch {
    return false;
  } finally {
    await session?.release().catch(() => undefined);
  }
}

function identityGraph(): Uint8Array {
  const g = new GraphBuilder("provider-probe", "unused.bin");
  g.node("Identity", [g.input("x", "float32", [1])], ["y"]);
  g.output("y", "float32", [1]);
  return g.build().model;
}
