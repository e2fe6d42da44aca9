// Which execution providers can actually run here. onnxruntime lists every provider its binding
// was built with (the Linux x64 build lists CUDA and TensorRT on machines without a GPU), so each
// one other than the CPU is tried once on a one-node graph; only those that create a session and
// run it are offered. The answer is kept for the life of the engine host.
//
// The trials run in a short-lived child process: a provider that cannot load writes to stderr
// from native code that no log setting reaches (onnxruntime's provider bridge when its shared
// library is absent, Dawn when there is no Vulkan), and the host's own stderr must stay quiet on
// a normal start. The child's stderr is kept only to say why a provider did not run.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { GraphBuilder } from "../convert/onnx-builder.js";

export interface ListedProvider {
  name: string;
  bundled: boolean;
}

/** One provider's trial: whether a session ran on it, and if not the reason it gave. */
export interface ProviderTrialResult {
  name: string;
  runs: boolean;
  reason?: string;
}

/** Tries providers; resolves with one result per name, in order. */
export type ProviderTrial = (names: readonly string[]) => Promise<ProviderTrialResult[]>;

let cached: Promise<ListedProvider[]> | null = null;

/** The listed providers that run here (the CPU always does); probed once per process. */
export function runnableProviders(
  listed: readonly ListedProvider[],
  trial: ProviderTrial = tryProviders,
): Promise<ListedProvider[]> {
  if (trial !== tryProviders) return filterRunnable(listed, trial);
  cached ??= filterRunnable(listed, trial);
  return cached;
}

async function filterRunnable(listed: readonly ListedProvider[], trial: ProviderTrial) {
  const others = listed.filter((p) => p.name !== "cpu").map((p) => p.name);
  const results = others.length ? await trial(others).catch(() => []) : [];
  const runs = new Set(results.filter((r) => r.runs).map((r) => r.name));
  return listed.filter((p) => p.name === "cpu" || runs.has(p.name));
}

/** The child's program: each provider on an Identity graph, one JSON line of results on stdout. */
const PROBE_PROGRAM = `
const ort = require(process.env.EXITLANE_PROBE_ORT);
const model = Buffer.from(process.env.EXITLANE_PROBE_MODEL, "base64");
(async () => {
  const results = [];
  for (const name of JSON.parse(process.env.EXITLANE_PROBE_PROVIDERS)) {
    let session;
    try {
      session = await ort.InferenceSession.create(model, { executionProviders: [name], logSeverityLevel: 4 });
      const out = await session.run({ x: new ort.Tensor("float32", new Float32Array([1]), [1]) });
      results.push({ name, runs: out.y && out.y.data[0] === 1 });
    } catch (error) {
      results.push({ name, runs: false, reason: String(error && error.message || error).split("\\n")[0] });
    } finally {
      if (session) await session.release().catch(() => {});
    }
  }
  process.stdout.write(JSON.stringify(results) + "\\n");
})();
`;

/** Tries each provider in a child process (this process's execPath, as Node), its stderr captured. */
export function tryProviders(names: readonly string[], timeoutMs = 30_000): Promise<ProviderTrialResult[]> {
  const ortEntry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", PROBE_PROGRAM],
      {
        timeout: timeoutMs,
        maxBuffer: 4 * 1024 * 1024,
        // ELECTRON_RUN_AS_NODE: in the app, execPath is Electron's binary.
        env: {
          ...process.env,
          ELECTRON_RUN_AS_NODE: "1",
          EXITLANE_PROBE_ORT: ortEntry,
          EXITLANE_PROBE_MODEL: Buffer.from(identityGraph()).toString("base64"),
          EXITLANE_PROBE_PROVIDERS: JSON.stringify(names),
        },
      },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line) as ProviderTrialResult[]);
        } catch {
          const reason = (error?.message ?? stderr.trim().split("\n")[0]) || "the probe printed no result";
          resolve(names.map((name) => ({ name, runs: false, reason })));
        }
      },
    );
  });
}

function identityGraph(): Uint8Array {
  const g = new GraphBuilder("provider-probe", "unused.bin");
  g.node("Identity", [g.input("x", "float32", [1])], ["y"]);
  g.output("y", "float32", [1]);
  return g.build().model;
}
