// The model library as `serve` sees it: one models folder, read and loaded through the engine host,
// with the load options from the command line. (The app's ModelLibrary also keeps settings and
// the UI's status in step, which a headless server has none of.)
import path from "node:path";
import type { ModelSummary } from "../../wire/model.js";
import { readManifest, resolvePackage } from "../../native-models/package/models-dir.js";
import type { EngineClient } from "../services/engine-client.js";
import type { ServerModels } from "../services/openai-server/run-generation.js";

export interface LoadOptions {
  threads: number;
  contextLength: number;
  executionProvider: string;
}

/** `--model` as an id in the models folder or the path of a package folder. */
export async function resolveModel(modelsDir: string, idOrPath: string) {
  const dir = await resolvePackage(modelsDir, idOrPath);
  const { id } = await readManifest(dir);
  if (path.basename(dir) !== id)
    throw new Error(`the package folder ${dir} must be named after its model id "${id}"`);
  return { modelsDir: path.dirname(dir), modelId: id };
}

export class CliModels implements ServerModels {
  private loaded: { id: string; layers: number } | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly modelsDir: string,
    private readonly load: LoadOptions,
  ) {}

  list(): Promise<ModelSummary[]> {
    return this.engine.request("listModels", { modelsDir: this.modelsDir });
  }

  /** Loads unless loaded (a restarted engine has nothing loaded: it loads again). */
  async ensureLoaded(id: string): Promise<{ layers: number }> {
    if (this.loaded?.id === id && this.engine.status().loadedModelId === id) return this.loaded;
    const { layers, kernels, nativeNotice } = await this.engine.request("load", {
      modelsDir: this.modelsDir,
      modelId: id,
      ...this.load,
    });
    // Said once per load: a server on onnxruntime answers several times slower.
    if (nativeNotice && this.loaded?.id !== id)
      process.stderr.write(`note: ${id} runs on ${kernels}, several times slower: ${nativeNotice}\n`);
    this.loaded = { id, layers };
    this.engine.setLoadedModel(id, {
      kernels: { name: kernels, ...(nativeNotice ? { notice: nativeNotice } : {}) },
    });
    return this.loaded;
  }
}
