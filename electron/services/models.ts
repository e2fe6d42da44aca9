// The model library and the loaded model, as the engine host reports them. The library lives in
// the models folder; the engine reads and writes it, this service keeps settings and status in step.
import type { EngineStatus, ModelSummary } from "../contract.js";
import type { EngineClient } from "./engine-client.js";
import { ChannelError } from "./errors.js";
import type { EngineTurns } from "./engine-turns.js";
import type { EventBus } from "./event-bus.js";
import type { SettingsStore } from "./settings.js";

export interface LoadedInfo {
  layers: number;
  mode: ModelSummary["mode"];
  /** The context the model runs with: its own, or the setting's if that is shorter. */
  contextLength: number;
}

export class ModelLibrary {
  /** Loads and unloads run one at a time: two overlapping loads would each ask the engine to load. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Layer count and prompting mode of each model loaded so far (from the load reply). */
  private readonly loadedInfo = new Map<string, LoadedInfo>();

  constructor(
    private readonly engine: EngineClient,
    private readonly settings: SettingsStore,
    private readonly events: EventBus,
    /** Answers in progress (the app's, the server's): a model switch waits for the one being written. */
    private readonly turns: EngineTurns,
  ) {}

  private get modelsDir(): string {
    return this.settings.get().modelsDir;
  }

  /** An engine without a library yet has no models, which is not an error. */
  async list(): Promise<ModelSummary[]> {
    await this.engine.start();
    if (!this.engine.supports("listModels")) return [];
    return this.engine.request("listModels", { modelsDir: this.modelsDir });
  }

  async find(id: string): Promise<ModelSummary> {
    const model = (await this.list()).find((m) => m.id === id);
    if (!model) throw new ChannelError("not_found", `No model with id "${id}" in the library.`);
    return model;
  }

  async rename(id: string, name: string): Promise<ModelSummary> {
    await this.engine.require("renameModel");
    const model = await this.engine.request("renameModel", { modelsDir: this.modelsDir, modelId: id, name });
    this.events.emit("models.changed", {});
    return model;
  }

  async delete(id: string): Promise<{ deleted: boolean }> {
    await this.engine.require("deleteModel");
    if (this.settings.get().activeModelId === id) await this.select(null);
    const result = await this.engine.request("deleteModel", { modelsDir: this.modelsDir, modelId: id });
    this.events.emit("models.changed", {});
    return result;
  }

  /** Makes a model the active one and loads it (null unloads). */
  async select(id: string | null): Promise<EngineStatus> {
    return this.turns.run(() => this.selectNow(id));
  }

  private async selectNow(id: string | null): Promise<EngineStatus> {
    if (id === null) {
      await this.serial(async () => {
        await this.engine.start();
        if (this.engine.supports("unload")) await this.engine.request("unload", {});
        this.engine.setLoadedModel(null);
      });
      this.settings.set({ activeModelId: null });
      return this.engine.status();
    }
    await this.serial(() => this.load(id));
    this.settings.set({ activeModelId: id });
    return this.engine.status();
  }

  /**
   * Loads the model unless the engine already has it (after a restart it has nothing); returns
   * its layer count, which the load reply carries once (tokens do not repeat it), and its mode.
   */
  async ensureLoaded(id: string): Promise<LoadedInfo> {
    return this.serial(async () => {
      const info = this.loadedInfo.get(id);
      if (this.engine.status().loadedModelId === id && info !== undefined) return info;
      return this.load(id);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.catch(() => undefined).then(work);
    this.queue = next;
    return next;
  }

  private async load(id: string): Promise<LoadedInfo> {
    await this.engine.require("load");
    const { threads, executionProvider, contextLength } = this.settings.get();
    // The engine reports each onnxruntime session it creates; engine.status carries it to the UI.
    this.engine.setLoading({ modelId: id, progress: 0 });
    const stopListening = this.engine.onEvent((e) => {
      if (e.event === "loading" && e.modelId === id)
        this.engine.setLoading({ modelId: id, progress: e.progress });
    });
    try {
      const loaded = await this.engine.request("load", {
        modelsDir: this.modelsDir,
        modelId: id,
        threads,
        executionProvider,
        contextLength,
      });
      this.engine.setLoadedModel(loaded.modelId, {
        fallbackNotice: loaded.fallbackNotice,
        kernels: { name: loaded.kernels, ...(loaded.nativeNotice ? { notice: loaded.nativeNotice } : {}) },
      });
      const own = (await this.list()).find((m) => m.id === loaded.modelId)?.contextLength;
      const info = {
        layers: loaded.layers,
        mode: loaded.mode,
        contextLength: Math.min(own ?? contextLength, contextLength),
      };
      this.loadedInfo.set(loaded.modelId, info);
      return info;
    } finally {
      stopListening();
      this.engine.setLoading(null);
    }
  }
}
