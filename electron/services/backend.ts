// The whole back end, free of Electron: services, handlers, dispatcher and event bus over one
// user-data folder. The Electron main process and the web host each build one of these and put
// their own transport in front of it.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { engineSampling } from "../contract.js";
import { createDispatcher, type Dispatch, type DispatcherOptions } from "../dispatch.js";
import { ConversationStore } from "./conversations.js";
import { EngineClient, type EngineClientOptions } from "./engine-client.js";
import { createEventBus, type EventBus } from "./event-bus.js";
import { EngineTurns } from "./engine-turns.js";
import { GenerationService } from "./generation.js";
import { DownloadJobs } from "./downloads.js";
import { createHandlers, type Services } from "./handlers.js";
import { hubEndpoint, type HubAccess } from "./hub/hub-http.js";
import { ImportJobs } from "./import-jobs.js";
import { ModelLibrary } from "./models.js";
import { SecretStore, type SecretCipher } from "./secrets.js";
import { LocalServer } from "./server.js";
import { SettingsStore } from "./settings.js";

export interface BackendOptions {
  userDataDir: string;
  engine: EngineClientOptions;
  /** Electron-ABI better-sqlite3 addon when running inside Electron. */
  sqliteNativeBinding?: string;
  /** Validate replies and events against the contract (on in dev and tests). */
  validate?: boolean;
  /** Channels this transport refuses, with the reason shown to the caller. */
  refuse?: DispatcherOptions["refuse"];
  chooseImportPath?: Services["chooseImportPath"];
  chooseFolder?: Services["chooseFolder"];
  /** The OS keychain (Electron's safeStorage); without it secrets last for one run. */
  secretCipher?: SecretCipher;
  /** The model hub (default: EXITLANE_HF_ENDPOINT, else huggingface.co). */
  hubEndpoint?: string;
  /** Free bytes on a folder's disk, checked before a download (tests inject it). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface Backend {
  dispatch: Dispatch;
  events: EventBus;
  services: Services;
  close(): Promise<void>;
}

export function createBackend(options: BackendOptions): Backend {
  const { userDataDir, validate = true } = options;
  mkdirSync(userDataDir, { recursive: true });
  const events = createEventBus({ validate });
  const engine = new EngineClient(options.engine);
  const settings = new SettingsStore(userDataDir);
  const secrets = new SecretStore(userDataDir, options.secretCipher);
  const conversations = new ConversationStore({
    file: path.join(userDataDir, "conversations.sqlite"),
    nativeBinding: options.sqliteNativeBinding,
  });
  const turns = new EngineTurns();
  const models = new ModelLibrary(engine, settings, events, turns);
  const imports = new ImportJobs(engine, events, () => settings.get().modelsDir);
  const hub: HubAccess = {
    endpoint: (options.hubEndpoint ?? hubEndpoint()).replace(/\/+$/, ""),
    token: () => secrets.get("hubToken"),
  };
  const downloads = new DownloadJobs({
    access: hub,
    imports,
    events,
    modelsDir: () => settings.get().modelsDir,
    freeBytes: options.freeBytes,
  });
  const generation = new GenerationService({ engine, store: conversations, settings, models, events, turns });
  const server = new LocalServer({
    engine,
    models,
    turns,
    settings,
    secrets,
    events,
    defaults: () => {
      const { defaultSampling, contextLength, knob } = settings.get();
      return { sampling: engineSampling(defaultSampling, contextLength), knob };
    },
  });
  const services: Services = {
    engine,
    conversations,
    settings,
    models,
    imports,
    generation,
    secrets,
    downloads,
    hub,
    server,
    chooseImportPath: options.chooseImportPath,
    chooseFolder: options.chooseFolder,
  };
  engine.onStatus((status) => events.emit("engine.status", status));
  let closed = false;
  void engine
    .start()
    .then(async () => {
      // Calibrations stored while another engine ran (onnxruntime standing in for the native
      // kernels) describe a speed this one does not have: measure them again.
      if (!closed) await imports.recalibrateStale(await models.list());
    })
    .catch((error) => closed || console.error("[engine] could not start:", error));
  if (settings.get().server.enabled) void server.apply();

  const dispatch = createDispatcher(createHandlers(services), {
    validateReplies: validate,
    refuse: options.refuse,
  });
  return {
    dispatch,
    events,
    services,
    async close() {
      closed = true;
      await downloads.stop();
      await server.close();
      await engine.close();
      conversations.close();
    },
  };
}
