// Which execution providers can actually run here. onnxruntime lists every provider its binding
// was built with (the Linux x64 build lists CUDA and TensorRT on machines without a GPU), so each
// one other than the CPU is tried once on a one-node graph; only those that create a session and
// run it are offered. The answer is kept for the life of the engine host.
//
// The trials run in a short-lived child process: a provider that cannot load writes to stderr
// from native code that no log setting reaches (onnxruntime's provider bridge when its shared
// library is absent, Dawn when there is no Vulkan), and the host's own stderr must stay quiet on
// a normal start. The child's stderr is kept only to say why a provider did not run. The child
// also reads onnxruntime's version and provider list, so the host loads onnxruntime only when a
// model runs on it (runtime/onnx-runtime.ts).
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

/** The listed providers whose trial runs (the CPU always does), in the listed order. */
export async function runnableProviders(listed: readonly ListedProvider[], trial: ProviderTrial) {
  const others = listed.filter((p) => p.name !== "cpu").map((p) => p.name);
  const results = others.length ? await trial(others).catch(() => []) : [];
  const runs = new Set(results.filter((r) => r.runs).map((r) => r.name));
  return listed.filter((p) => p.name === "cpu" || runs.has(p.name));
}

export interface OnnxRuntimeFacts {
  version: string;
  /** The providers that run here. */
  providers: ListedProvider[];
}

let facts: Promise<OnnxRuntimeFacts> | null = null;

/** onnxruntime's version and the providers that run here, from one probe; once per process. */
export function onnxRuntimeFacts(): Promise<OnnxRuntimeFacts> {
  facts ??= runProbe("listed").then(async (probe) => {
    if (!probe.ok) return { version: `unavailable (${probe.reason})`, providers: [] };
    const { version, listed, results } = probe;
    return { version, providers: await runnableProviders(listed, async () => results) };
  });
  return facts;
}

/**
 * The child's program: onnxruntime's version and provider list, then each provider asked for
 * ("listed": every listed one but the CPU) on an Identity graph; one JSON line on stdout.
 */
const PROBE_PROGRAM = `
const ort = require(process.env.EXITLANE_PROBE_ORT);
const model = Buffer.from(process.env.EXITLANE_PROBE_MODEL, "base64");
(async () => {
  const versions = ort.env.versions || {};
  const listed = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  const asked = process.env.EXITLANE_PROBE_PROVIDERS;
  const names = asked === "listed" ? listed.map((b) => b.name).filter((n) => n !== "cpu") : JSON.parse(asked);
  const results = [];
  for (const name of names) {
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
  const version = versions.node || versions.common || "unknown";
  process.stdout.write(JSON.stringify({ version, listed, results }) + "\\n");
})();
`;

type Probe =
  | { ok: true; version: string; listed: ListedProvider[]; results: ProviderTrialResult[] }
  | { ok: false; reason: string };

/** Tries each provider in a child process (this process's execPath, as Node), its stderr captured. */
export async function tryProviders(
  names: readonly string[],
  timeoutMs = 30_000,
): Promise<ProviderTrialResult[]> {
  const probe = await runProbe(JSON.stringify(names), timeoutMs);
  return probe.ok ? probe.results : names.map((name) => ({ name, runs: false, reason: probe.reason }));
}

/** `providers`: a JSON list of names, or "listed". */
function runProbe(providers: string, timeoutMs = 30_000): Promise<Probe> {
  let ortEntry: string;
  try {
    ortEntry = createRequire(import.meta.url).resolve("onnxruntime-node");
  } catch (error) {
    return Promise.resolve({ ok: false, reason: (error as Error).message.split("\n")[0] });
  }
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
          EXITLANE_PROBE_PROVIDERS: providers,
        },
      },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve({ ok: true, ...(JSON.parse(line) as Omit<Probe & { ok: true }, "ok">) });
        } catch {
          const reason = (error?.message ?? stderr.trim().split("\n")[0]) || "the probe printed no result";
          resolve({ ok: false, reason });
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
