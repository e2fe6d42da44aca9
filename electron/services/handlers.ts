// Every contract channel mapped to the back-end service that answers it. Payloads arrive here
// already validated by the dispatcher; replies are checked against the contract in dev and tests.
import type { Handlers } from "../dispatch.js";
import type { ConversationStore } from "./conversations.js";
import type { DownloadJobs } from "./downloads.js";
import type { EngineClient } from "./engine-client.js";
import { ChannelError } from "./errors.js";
import type { GenerationService } from "./generation.js";
import { CATALOG } from "./hub/catalog.js";
import { listRepo } from "./hub/hub-client.js";
import type { HubAccess } from "./hub/hub-http.js";
import { parseRepoRef } from "./hub/repo-id.js";
import type { ImportJobs } from "./import-jobs.js";
import type { ModelLibrary } from "./models.js";
import type { SecretStore } from "./secrets.js";
import type { LocalServer } from "./server.js";
import type { SettingsStore } from "./settings.js";
import { checkConstraint, UnsupportedSchemaError } from "../../native-models/runtime/grammar/check.js";

export interface Services {
  engine: EngineClient;
  conversations: ConversationStore;
  settings: SettingsStore;
  models: ModelLibrary;
  imports: ImportJobs;
  generation: GenerationService;
  secrets: SecretStore;
  downloads: DownloadJobs;
  /** The hub's endpoint and the user's token (from `secrets`). */
  hub: HubAccess;
  /** The local OpenAI-compatible server (follows settings.server). */
  server: LocalServer;
  /** Electron only: shows the native open dialog; returns the chosen path or null. */
  chooseImportPath?: (folder: boolean) => Promise<string | null>;
  /** Electron only: shows the native folder dialog (for the models folder); null when cancelled. */
  chooseFolder?: () => Promise<string | null>;
}

export function createHandlers(s: Services): Handlers {
  return {
    "engine.info": async () => ({ ...(await s.engine.request("info", {}, { timeoutMs: 30_000 })) }),
    "engine.status": () => s.engine.status(),
    "engine.usage": () => s.engine.request("usage", {}, { timeoutMs: 10_000 }),

    "models.list": () => s.models.list(),
    "models.importPath": ({ path, quant, again }) => s.imports.startImport({ source: path, quant, again }),
    "models.restartImport": ({ jobId, quant }) => s.imports.restartImport(jobId, quant),
    "models.importDialog": async ({ folder, quant }) => {
      if (!s.chooseImportPath)
        throw new ChannelError(
          "bad_request",
          "The file dialog exists only in the desktop app; drop or upload the file instead.",
        );
      const chosen = await s.chooseImportPath(folder);
      return chosen ? s.imports.startImport({ source: chosen, quant }) : null;
    },
    "models.cancelImport": ({ jobId }) => s.imports.cancel(jobId),
    "models.jobs": () => s.imports.list(),
    "models.rename": ({ id, name }) => s.models.rename(id, name),
    "models.delete": ({ id }) => s.models.delete(id),
    // The user's own answers end now; a server client's answer is written to its end first.
    "models.select": async ({ id }) => {
      await s.generation.stopAll();
      return s.models.select(id);
    },
    "models.calibrate": async ({ id }) => {
      await s.engine.require("calibrate");
      const model = await s.models.find(id);
      return s.imports.startCalibration(id, model.name);
    },

    "hub.catalog": () => [...CATALOG],
    "hub.listRepo": async ({ repo }) => {
      const { files, arch, unsupported, repo: id } = await listRepo(s.hub, parseRepoRef(repo).repo);
      return { repo: id, files, arch, ...(unsupported ? { unsupported } : {}) };
    },
    "hub.tokenStatus": () => tokenStatus(s),
    "hub.setToken": ({ token }) => {
      // Without a keychain the token is kept for this run only (canStore: false says so); it is never
      // written in clear.
      s.secrets.set("hubToken", token?.trim() || null);
      return tokenStatus(s);
    },
    "downloads.start": (request) => s.downloads.start(request),
    "downloads.cancel": ({ jobId }) => s.downloads.cancel(jobId),
    "downloads.list": () => s.downloads.list(),
    "server.status": () => s.server.status(),
    "server.newKey": () => s.server.newKey(),

    "chat.list": ({ query }) => s.conversations.list(query),
    "chat.create": ({ title }) =>
      s.conversations.create({ title, sampling: s.settings.get().defaultSampling }),
    "chat.get": ({ id }) => s.conversations.get(id),
    "chat.rename": ({ id, title }) => s.conversations.rename(id, title),
    "chat.delete": async ({ id }) => {
      await s.generation.stop(id).catch(() => undefined);
      return { deleted: s.conversations.delete(id) };
    },
    "chat.update": ({ id, ...change }) => {
      if (change.jsonAnswer?.schema) {
        const problem = schemaProblem(change.jsonAnswer.schema);
        if (problem) throw new ChannelError("bad_request", problem);
      }
      return s.conversations.update(id, change);
    },
    "chat.checkSchema": ({ schema }) => {
      const problem = schemaProblem(schema);
      return problem ? { ok: false, message: problem } : { ok: true };
    },
    "chat.send": ({ conversationId, text }) => s.generation.send(conversationId, text),
    "chat.regenerate": ({ conversationId }) => s.generation.regenerate(conversationId),
    "chat.showVersion": ({ conversationId, messageId }) => {
      if (s.generation.isGenerating(conversationId))
        throw new ChannelError(
          "conflict",
          "An answer is still being written in this conversation; stop it first.",
        );
      return s.conversations.showVersion(conversationId, messageId);
    },
    "chat.edit": ({ conversationId, messageId, text }) => s.generation.edit(conversationId, messageId, text),
    "chat.stop": ({ conversationId }) => s.generation.stop(conversationId),
    "chat.export": ({ id }) => s.conversations.exportMarkdown(id),

    "settings.get": () => s.settings.get(),
    "settings.set": async (change) => {
      if (change.modelsDir !== undefined && change.modelsDir !== s.settings.get().modelsDir) {
        throw new ChannelError(
          "bad_request",
          "The models folder can only be changed with the folder dialog (settings.chooseModelsDir).",
        );
      }
      if (change.executionProvider !== undefined) await checkProvider(s.engine, change.executionProvider);
      const settings = s.settings.set(change);
      // The server's state is reported through server.status (a taken port is not a settings error).
      if (change.server !== undefined) await s.server.apply();
      return settings;
    },
    "settings.chooseModelsDir": async () => {
      if (!s.chooseFolder)
        throw new ChannelError("bad_request", "The models folder can be changed only in the desktop app.");
      const folder = await s.chooseFolder();
      return folder ? s.settings.set({ modelsDir: folder }) : s.settings.get();
    },
    "generation.setKnob": async ({ value }) => {
      const settings = s.settings.set({ knob: value });
      // A running answer picks the new value up from its next token; later answers get it as a parameter.
      if (s.engine.supports("setKnob")) await s.engine.request("setKnob", { value });
      return settings;
    },
  };
}

/** `stored`: a token is in use (kept across restarts only where `canStore`). */
function tokenStatus(s: Services) {
  return {
    stored: s.secrets.get("hubToken") !== null,
    canStore: s.secrets.canStore,
    endpoint: s.hub.endpoint,
  };
}

/** Only providers this onnxruntime build reports can be chosen. */
async function checkProvider(engine: EngineClient, name: string): Promise<void> {
  const info = await engine.request("info", {}, { timeoutMs: 30_000 });
  const known = info.executionProviders.map((p) => p.name);
  if (!known.includes(name)) {
    throw new ChannelError(
      "bad_request",
      `Execution provider "${name}" is not available here; choose one of: ${known.join(", ")}.`,
    );
  }
}

/** Why the engine could not enforce this JSON Schema, or null when it can. */
function schemaProblem(schema: unknown): string | null {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema))
    return "A JSON Schema is an object.";
  try {
    checkConstraint({ type: "json_schema", schema: schema as Record<string, unknown> });
    return null;
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) return err.message;
    throw err;
  }
}
