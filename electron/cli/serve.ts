// `serve`: the local OpenAI-compatible server without the app. Starts the engine host, loads the
// model, listens on 127.0.0.1 and prints one JSON line {url, apiKey, model} on stdout when ready
// (logs go to stderr). SIGINT or SIGTERM closes the server (stopping any answer being written),
// ends the engine host and exits 0.
import { defaultModelsDir, defaultUserDataDir } from "../../native-models/package/default-dirs.js";
import { int, parse, printJson, UsageError } from "../../native-models/cli/args.js";
import { engineSampling } from "../contract.js";
import { EngineClient } from "../services/engine-client.js";
import { EngineTurns } from "../services/engine-turns.js";
import { engineHostEntry, forkNodeHost } from "../services/host-process.js";
import { createOpenAiServer } from "../services/openai-server/http-server.js";
import { defaultSettings } from "../services/settings.js";
import { newApiKey } from "../services/server.js";
import { CliModels, resolveModel } from "./serve-models.js";

export const SERVE_USAGE = `  serve --model <id-or-path> [--models-dir <dir>] [--port 1234] [--api-key KEY] [--threads N] [--ctx N]
        (a local OpenAI-compatible server on 127.0.0.1; prints {"url","apiKey","model"} when ready)`;

// Beside the bundle dist/cli/cli.mjs: dist/engine/host.cjs, the app's own engine host.
const host = engineHostEntry(import.meta.url);

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: "string" },
    "models-dir": { type: "string" },
    port: { type: "string" },
    "api-key": { type: "string" },
    threads: { type: "string" },
    ctx: { type: "string" },
  });
  if (!values.model) throw new UsageError("--model <id-or-path> is required");
  const defaults = defaultSettings(defaultUserDataDir());
  const port = int(values.port, "port", 1234, 0, 65535);
  const apiKey = values["api-key"] ?? newApiKey();
  const { modelsDir, modelId } = await resolveModel(values["models-dir"] ?? defaultModelsDir(), values.model);

  const engine = new EngineClient({ spawn: forkNodeHost(host.entry, { execArgv: host.execArgv }) });
  const turns = new EngineTurns();
  const contextLength = int(values.ctx, "ctx", defaults.contextLength, 16, 1 << 20);
  const models = new CliModels(engine, modelsDir, {
    threads: int(values.threads, "threads", defaults.threads, 1, 256),
    contextLength,
    executionProvider: "cpu",
  });
  const server = createOpenAiServer({
    engine,
    models,
    turns,
    apiKey: () => apiKey,
    defaults: () => ({
      sampling: engineSampling(defaults.defaultSampling, contextLength),
      knob: defaults.knob,
    }),
  });
  try {
    await engine.start();
    log(`loading ${modelId} from ${modelsDir}`);
    await models.ensureLoaded(modelId);
    const bound = await server.listen(port).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        error.code === "EADDRINUSE" ? `port ${port} is in use; choose another with --port` : error.message,
      );
    });
    printJson({ url: `http://127.0.0.1:${bound}/v1`, apiKey, model: modelId });
    log(`serving ${modelId} on http://127.0.0.1:${bound}/v1 (Ctrl+C stops)`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log(`${signal}: stopping`);
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  } finally {
    await server.close();
    await engine.close();
  }
}

function log(line: string): void {
  process.stderr.write(`[serve] ${line}\n`);
}
