// A stand-in engine host for tests: the real message loop and protocol, with scripted methods
// (tokens on a timer, import stages, failures on request). Forked exactly like the real host.
import { runHost } from "../../native-models/host/host.js";
import {
  HostMethodError,
  methods as realMethods,
  type MethodTable,
} from "../../native-models/host/methods.js";
import { connectToParent } from "../../native-models/host/transport.js";

const TOKEN_MS = Number(process.env.FAKE_TOKEN_MS ?? 5);
const LAYERS = 4;
const stops = new Set<string>();
const cancels = new Set<string>();
const models = new Map<string, { name: string }>();
let knob = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const summary = (id: string) => ({
  id,
  name: models.get(id)?.name ?? id,
  arch: "llama",
  params: 260_000,
  quant: "int8" as const,
  layers: LAYERS,
  contextLength: 512,
  sizeBytes: 1000,
  sourceFormat: "gguf" as const,
  createdAt: new Date(0).toISOString(),
  calibration: { status: "none" as const, curve: [] },
});

const table: MethodTable = {
  info: realMethods.info,
  listModels: async () => [...models.keys()].map(summary),
  renameModel: async ({ modelId, name }) => {
    if (!models.has(modelId)) throw new HostMethodError("not_found", `No model ${modelId}`);
    models.set(modelId, { name });
    return summary(modelId);
  },
  deleteModel: async ({ modelId }) => ({ deleted: models.delete(modelId) }),
  load: async ({ modelId }) => {
    if (!models.has(modelId) && modelId !== "preloaded")
      throw new HostMethodError("not_found", `No model ${modelId}`);
    return { modelId, layers: LAYERS, executionProvider: "cpu" };
  },
  unload: async () => ({ unloaded: true }),
  setKnob: async ({ value }) => {
    knob = value;
    return {};
  },
  stop: async ({ genId }) => {
    stops.add(genId);
    return { stopped: true };
  },
  generate: async ({ genId, sampling, messages }, ctx) => {
    const started = Date.now();
    if (messages.at(-1)?.content.includes("crash please")) setTimeout(() => process.exit(3), TOKEN_MS * 3);
    let index = 0;
    for (; index < sampling.maxTokens; index++) {
      if (stops.delete(genId)) break;
      await sleep(TOKEN_MS);
      const exitLayer = knob > 0.5 ? 1 : index % LAYERS;
      ctx.emit({
        event: "token",
        genId,
        index,
        tokenId: 100 + index,
        text: `t${index} `,
        exitLayer,
        layers: LAYERS,
        ms: TOKEN_MS,
      });
    }
    const seconds = (Date.now() - started) / 1000;
    return {
      tokens: index,
      tokensPerSecond: index / seconds,
      timeToFirstTokenMs: TOKEN_MS,
      meanExitLayer: 1.5,
      layers: LAYERS,
      stopReason: index < sampling.maxTokens ? "stopped" : "max_tokens",
    };
  },
  cancel: async ({ jobId }) => {
    cancels.add(jobId);
    return { cancelled: true };
  },
  importModel: async ({ jobId, source }, ctx) => {
    for (const stage of ["read", "convert", "quantize", "write"] as const) {
      for (const progress of [0, 0.5, 1]) {
        if (cancels.delete(jobId)) throw new HostMethodError("cancelled", "Import cancelled");
        if (source.includes("corrupt") && stage === "read" && progress === 0.5) {
          throw new HostMethodError("bad_request", `Not a GGUF file: bad magic (${source})`);
        }
        ctx.emit({ event: "progress", jobId, stage, progress });
        await sleep(TOKEN_MS);
      }
    }
    const id = `model-${models.size + 1}`;
    models.set(id, { name: source.split(/[\\/]/).pop() ?? id });
    return { model: summary(id) };
  },
};

// FAKE_METHODS=info,listModels limits the table, to imitate an engine that lacks features.
const only = process.env.FAKE_METHODS?.split(",");
const chosen = only
  ? Object.fromEntries(Object.entries(table).filter(([name]) => only.includes(name)))
  : table;
runHost(connectToParent(), chosen as MethodTable);
