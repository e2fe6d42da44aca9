// The one typed contract between the renderer and the app's back end.
// Every request/reply channel and every event is defined here once, with a zod schema.
// The Electron main process and the loopback web host both validate every incoming message
// against these schemas; the preload builds its single API object from the channel list.
// This file must stay free of Node, Electron and React imports: the renderer bundles it. Shapes
// shared with the engine host's protocol come from wire/.
import { z } from "zod";
import { ErrorCode, ErrorDetail, WireError } from "../wire/errors.js";
import { EngineInfo, EngineUsage } from "../wire/engine.js";
import {
  ContextOverflow,
  ExitTelemetry,
  GenerationStats,
  Sampling,
  StopReason,
  TokenFields,
} from "../wire/generation.js";
import {
  Id,
  ImportPlan,
  ImportStage,
  KnobPoint,
  ModelSummary,
  Quant,
  QuantSizes,
  SOURCE_FORM,
  SourceBlocks,
  keepsSourceForm,
} from "../wire/model.js";

// ---------- shared shapes ----------

const id = Id;
const text = z.string().max(1_000_000);

// Shapes the engine host speaks too are declared once, in wire/; re-exported for the renderer.
export {
  ContextOverflow,
  EngineInfo,
  EngineUsage,
  ExitTelemetry,
  GenerationStats,
  ImportPlan,
  ImportStage,
  KnobPoint,
  ModelSummary,
  Quant,
  QuantSizes,
  SOURCE_FORM,
  SourceBlocks,
  keepsSourceForm,
  Sampling,
  StopReason,
  TokenFields,
};

/**
 * Sampling as a chat (or the default for new chats) keeps it. `maxTokens` null means "automatic":
 * a share of the loaded model's context (defaultMaxTokens), resolved when an answer starts, so the
 * prompt always keeps room. A number is the user's own choice and is used as is.
 */
export const ChatSampling = Sampling.extend({ maxTokens: Sampling.shape.maxTokens.nullable() });
export type ChatSampling = z.infer<typeof ChatSampling>;

/** The most tokens an automatic answer may take. */
export const AUTO_MAX_TOKENS_CAP = 1024;

/** The answer length used when a chat leaves it automatic: a quarter of the context, at most 1024. */
export function defaultMaxTokens(contextLength: number): number {
  return Math.max(1, Math.min(AUTO_MAX_TOKENS_CAP, Math.floor(contextLength / 4)));
}

/** The engine's sampling for an answer: an automatic maxTokens resolved against the context. */
export function engineSampling(sampling: ChatSampling, contextLength: number): Sampling {
  return { ...sampling, maxTokens: sampling.maxTokens ?? defaultMaxTokens(contextLength) };
}

export const ConversationSummary = z.object({
  id,
  title: z.string(),
  updatedAt: z.string(),
  modelId: z.string().nullable(),
  preview: z.string(),
  /** In search results: the words around the match in the chat's messages (one line, "…" where cut). */
  snippet: z.string().optional(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

/**
 * "Answer as JSON": the chat's answers are constrained to JSON valid against `schema` (the engine's
 * JSON Schema subset), or to any JSON object when it is null.
 */
export const JsonAnswer = z.object({ schema: z.record(z.string(), z.unknown()).nullable() }).strict();
export type JsonAnswer = z.infer<typeof JsonAnswer>;

export const Conversation = ConversationSummary.extend({
  systemPrompt: z.string(),
  sampling: ChatSampling,
  overflow: ContextOverflow,
  /** Absent or null: answers are free text. */
  jsonAnswer: JsonAnswer.nullable().optional(),
  createdAt: z.string(),
});
export type Conversation = z.infer<typeof Conversation>;

export const Message = z.object({
  id,
  conversationId: id,
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
  createdAt: z.string(),
  /** Exit layer of every generated token (assistant messages), for the layer strip and charts. */
  exitLayers: z.array(z.number().int()),
  /** Text of every generated token, aligned with exitLayers (for hover and the layer strip). */
  tokenTexts: z.array(z.string()),
  stats: GenerationStats.nullable(),
  modelId: z.string().nullable(),
  /**
   * An answer regenerated before: the ids of all its versions, oldest first (this one among them);
   * absent when there is only one. The others are kept aside, shown with chat.showVersion.
   */
  versions: z.array(id).min(2).optional(),
});
export type Message = z.infer<typeof Message>;

export const ImportJob = z.object({
  jobId: id,
  source: z.string(),
  stage: ImportStage,
  /** 0..1 within the stage. */
  progress: z.number(),
  state: z.enum(["running", "done", "failed", "cancelled"]),
  /** A failed job's message, and its code and detail (what the renderer picks its words by). */
  error: z.string().optional(),
  errorCode: ErrorCode.optional(),
  errorDetail: ErrorDetail.optional(),
  modelId: z.string().optional(),
  /** An import's quantization and the size each choice gives, once its source's header is read. */
  plan: ImportPlan.optional(),
});
export type ImportJob = z.infer<typeof ImportJob>;

/**
 * How files are imported: the quantization (absent: the engine's default, int8 under 1B parameters
 * and int4 above), and whether a file the library already holds is imported again.
 */
export const ImportOptions = z.object({ quant: Quant.optional(), again: z.boolean().optional() }).strict();
export type ImportOptions = z.infer<typeof ImportOptions>;

/** The query string UPLOAD_PATH takes import options in ("" when there are none). */
export function uploadQuery(options: ImportOptions = {}): string {
  const q = new URLSearchParams();
  if (options.quant) q.set("quant", options.quant);
  if (options.again) q.set("again", "1");
  return q.toString();
}

/** UPLOAD_PATH's import options read back from its query; a malformed query is refused (zod error). */
export function parseUploadQuery(params: URLSearchParams): ImportOptions {
  const again = params.get("again");
  return ImportOptions.parse({
    ...(params.has("quant") ? { quant: params.get("quant") } : {}),
    ...(again !== null ? { again: again === "1" ? true : again } : {}),
  });
}

export const Settings = z.object({
  threads: z.number().int().min(1).max(256),
  executionProvider: z.string().min(1).max(40),
  contextLength: z.number().int().min(128).max(131072),
  modelsDir: z.string().max(4096),
  theme: z.enum(["light", "dark", "system"]),
  defaultSampling: ChatSampling,
  /**
   * Speed/accuracy knob: 0 = exact (every token is the full model's: lossless speculative decoding
   * where it measured faster, else plain full depth), 1 = fastest.
   */
  knob: z.number().min(0).max(1),
  activeModelId: z.string().nullable(),
  /** The local OpenAI-compatible server: off by default; loopback only, on this port. */
  server: z.object({ enabled: z.boolean(), port: z.number().int().min(1024).max(65535) }),
});
export type Settings = z.infer<typeof Settings>;

/** One file of a Hugging Face model repository, as the hub's tree API lists it. */
export const HubFile = z.object({
  path: z.string(),
  sizeBytes: z.number(),
  /** SHA-256 of the file (LFS files), which the download is checked against; null when the hub gives none. */
  sha256: z.string().nullable(),
});
export type HubFile = z.infer<typeof HubFile>;

/** A model of the curated catalog: exactly which file to fetch, and what to expect of it. */
export const CatalogEntry = z.object({
  id,
  name: z.string(),
  repo: z.string(),
  file: z.string(),
  sizeBytes: z.number(),
  /** Memory the model needs to run at its context length, roughly. */
  ramBytes: z.number(),
  params: z.number(),
  arch: z.string(),
  licence: z.string(),
  /** What the model is good for, in a sentence. */
  goodFor: z.string(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const DownloadJob = z.object({
  jobId: id,
  repo: z.string(),
  file: z.string(),
  /** downloading → verifying (SHA-256) → importing (the normal import job, `importJobId`) → done. */
  state: z.enum(["downloading", "verifying", "importing", "done", "failed", "cancelled"]),
  receivedBytes: z.number(),
  totalBytes: z.number(),
  bytesPerSecond: z.number(),
  /** Seconds left at the current speed; null until there is a speed to go by. */
  etaSeconds: z.number().nullable(),
  importJobId: id.optional(),
  modelId: z.string().optional(),
  error: z.string().optional(),
  errorCode: ErrorCode.optional(),
  errorDetail: ErrorDetail.optional(),
});
export type DownloadJob = z.infer<typeof DownloadJob>;

/** A download as it starts (the back end creates it; the renderer shows it before the first event). */
export function startingDownload(jobId: string, repo: string, file: string): DownloadJob {
  return {
    jobId,
    repo,
    file,
    state: "downloading",
    receivedBytes: 0,
    totalBytes: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
  };
}

/** The local OpenAI-compatible server (off by default). */
export const ServerStatus = z.object({
  running: z.boolean(),
  /** Base URL for clients, e.g. http://127.0.0.1:1234/v1 (null when not running). */
  url: z.string().nullable(),
  /** The bearer key clients must send (generated by the app, kept in the OS keychain where there is one). */
  apiKey: z.string().nullable(),
  /** Why it is not running although switched on (e.g. the port is taken). */
  error: z.string().optional(),
});
export type ServerStatus = z.infer<typeof ServerStatus>;

export const EngineStatus = z.object({
  state: z.enum(["starting", "ready", "restarting", "crashed"]),
  message: z.string().optional(),
  /** Set when a GPU execution provider failed and the engine fell back to CPU. */
  fallbackNotice: z.string().optional(),
  loadedModelId: z.string().nullable(),
  /**
   * What runs the loaded model, e.g. "native avx512-vnni" or "onnxruntime MatMulNBits", and when
   * the native kernels do not run it, why (answers are then several times slower).
   */
  kernels: z.object({ name: z.string(), notice: z.string().optional() }).optional(),
  /** While a model loads: which one and how far (0..1). */
  loading: z.object({ modelId: z.string(), progress: z.number().min(0).max(1) }).optional(),
});
export type EngineStatus = z.infer<typeof EngineStatus>;

// ---------- request/reply channels ----------

const empty = z.object({}).strict();

export const requests = {
  "engine.info": { request: empty, reply: EngineInfo },
  "engine.status": { request: empty, reply: EngineStatus },
  /** Memory and CPU use of the engine host process (the renderer polls it every few seconds). */
  "engine.usage": { request: empty, reply: EngineUsage },

  "models.list": { request: empty, reply: z.array(ModelSummary) },
  /** Import from a path the user chose (native dialog or drop; the path never comes from page script). */
  "models.importPath": {
    request: z
      .object({
        path: z.string().min(1).max(4096),
        quant: Quant.optional(),
        /** Import a second copy of a file already in the library (otherwise: code already_imported). */
        again: z.boolean().optional(),
      })
      .strict(),
    reply: z.object({ jobId: id }),
  },
  /** Electron only: opens the native file dialog; null when the user cancelled. */
  "models.importDialog": {
    request: z.object({ folder: z.boolean(), quant: Quant.optional() }).strict(),
    reply: z.object({ jobId: id }).nullable(),
  },
  "models.cancelImport": {
    request: z.object({ jobId: id }).strict(),
    reply: z.object({ cancelled: z.boolean() }),
  },
  /**
   * Stops a running import and starts it again from the same source at another quantization; the
   * stopped job leaves nothing behind and is dropped from the list. Replies with the new job.
   */
  "models.restartImport": {
    request: z.object({ jobId: id, quant: Quant }).strict(),
    reply: z.object({ jobId: id }),
  },
  "models.jobs": { request: empty, reply: z.array(ImportJob) },
  "models.rename": {
    request: z.object({ id, name: z.string().min(1).max(200) }).strict(),
    reply: ModelSummary,
  },
  "models.delete": { request: z.object({ id }).strict(), reply: z.object({ deleted: z.boolean() }) },
  "models.select": { request: z.object({ id: id.nullable() }).strict(), reply: EngineStatus },
  "models.calibrate": { request: z.object({ id }).strict(), reply: z.object({ jobId: id }) },

  /** The curated catalog of small models that run well on CPUs. */
  "hub.catalog": { request: empty, reply: z.array(CatalogEntry) },
  /** The GGUF files of a Hugging Face repo (id "owner/name" or a huggingface.co URL), checked against what the engine supports. */
  "hub.listRepo": {
    request: z.object({ repo: z.string().min(1).max(500) }).strict(),
    reply: z.object({
      repo: z.string(),
      files: z.array(HubFile),
      /** The architecture the repo's metadata names, where it names one. */
      arch: z.string().nullable(),
      /** Set when the engine cannot run this repo's models, saying why. */
      unsupported: z.string().optional(),
    }),
  },
  /** Whether a hub access token is stored (for gated models), and whether this app can store one safely. */
  "hub.tokenStatus": {
    request: empty,
    reply: z.object({ stored: z.boolean(), canStore: z.boolean(), endpoint: z.string() }),
  },
  /** Stores (or, with null, forgets) the user's hub access token in the OS keychain. */
  "hub.setToken": {
    request: z.object({ token: z.string().min(1).max(500).nullable() }).strict(),
    reply: z.object({ stored: z.boolean(), canStore: z.boolean(), endpoint: z.string() }),
  },
  /** Downloads a file of a repo, verifies it, then imports it like a dropped file. */
  "downloads.start": {
    request: z
      .object({ repo: z.string().min(1).max(500), file: z.string().min(1).max(500), quant: Quant.optional() })
      .strict(),
    reply: z.object({ jobId: id }),
  },
  "downloads.cancel": {
    request: z.object({ jobId: id }).strict(),
    reply: z.object({ cancelled: z.boolean() }),
  },
  "downloads.list": { request: empty, reply: z.array(DownloadJob) },

  "server.status": { request: empty, reply: ServerStatus },
  /** Replaces the server's API key (clients holding the old one are refused from now on). */
  "server.newKey": { request: empty, reply: ServerStatus },

  "chat.list": {
    request: z.object({ query: z.string().max(500).optional() }).strict(),
    reply: z.array(ConversationSummary),
  },
  "chat.create": {
    request: z.object({ title: z.string().max(200).optional() }).strict(),
    reply: Conversation,
  },
  "chat.get": {
    request: z.object({ id }).strict(),
    reply: z.object({ conversation: Conversation, messages: z.array(Message) }),
  },
  "chat.rename": {
    request: z.object({ id, title: z.string().min(1).max(200) }).strict(),
    reply: Conversation,
  },
  "chat.delete": { request: z.object({ id }).strict(), reply: z.object({ deleted: z.boolean() }) },
  "chat.update": {
    request: z
      .object({
        id,
        systemPrompt: z.string().max(100_000).optional(),
        sampling: ChatSampling.optional(),
        overflow: ContextOverflow.optional(),
        /** null switches "answer as JSON" off; an unsupported schema is refused (bad_request). */
        jsonAnswer: JsonAnswer.nullable().optional(),
      })
      .strict(),
    reply: Conversation,
  },
  /** Whether the engine can enforce this JSON Schema (the settings' editor asks as you type). */
  "chat.checkSchema": {
    request: z.object({ schema: z.unknown() }).strict(),
    reply: z.object({ ok: z.boolean(), message: z.string().optional() }),
  },
  /**
   * Appends a user message and starts the answer; tokens arrive as generation.token events.
   * `conversation`: the chat after the message (the first one names a "New chat").
   */
  "chat.send": {
    request: z.object({ conversationId: id, text: text.min(1) }).strict(),
    reply: z.object({ userMessage: Message, assistantMessageId: id, conversation: Conversation }),
  },
  /** Answers the last message again; the answer before stays as a version (Message.versions). */
  "chat.regenerate": {
    request: z.object({ conversationId: id }).strict(),
    reply: z.object({ assistantMessageId: id }),
  },
  /** Shows another version of an answer in place of the one shown; replies with the conversation. */
  "chat.showVersion": {
    request: z.object({ conversationId: id, messageId: id }).strict(),
    reply: z.object({ conversation: Conversation, messages: z.array(Message) }),
  },
  /** Edits a user message, drops everything after it (answer versions too), and answers again. */
  "chat.edit": {
    request: z.object({ conversationId: id, messageId: id, text: text.min(1) }).strict(),
    reply: z.object({ userMessage: Message, assistantMessageId: id }),
  },
  "chat.stop": {
    request: z.object({ conversationId: id }).strict(),
    reply: z.object({ stopped: z.boolean() }),
  },
  "chat.export": {
    request: z.object({ id }).strict(),
    reply: z.object({ filename: z.string(), markdown: z.string() }),
  },

  "settings.get": { request: empty, reply: Settings },
  /**
   * `modelsDir` cannot be set to an arbitrary string: it changes only through this channel, which opens
   * the native folder dialog (desktop app only), so the back end never touches a folder the user did not pick.
   */
  "settings.set": { request: Settings.partial().strict(), reply: Settings },
  /** Electron only: lets the user pick the models folder with the native dialog; the settings are unchanged when cancelled. */
  "settings.chooseModelsDir": { request: empty, reply: Settings },
  /** The speed/accuracy knob; applies from the next token, also mid-answer. */
  "generation.setKnob": { request: z.object({ value: z.number().min(0).max(1) }).strict(), reply: Settings },
} as const;

export type Channel = keyof typeof requests;
export type RequestOf<C extends Channel> = z.infer<(typeof requests)[C]["request"]>;
export type ReplyOf<C extends Channel> = z.infer<(typeof requests)[C]["reply"]>;

// ---------- events (back end -> renderer) ----------

export const events = {
  "generation.token": TokenFields.extend({ conversationId: id, messageId: id }),
  "generation.done": z.object({
    conversationId: id,
    messageId: id,
    stats: GenerationStats,
    /** The engine's own words when the answer failed (shown as the detail of a plain sentence). */
    error: z.string().optional(),
    /** What the renderer picks that sentence by. */
    errorCode: ErrorCode.optional(),
  }),
  "import.progress": ImportJob,
  "download.progress": DownloadJob,
  "server.status": ServerStatus,
  "engine.status": EngineStatus,
  "models.changed": z.object({}),
  /** A menu item was chosen in the desktop app (its shortcut is left to the renderer's own key handling). */
  "app.command": z.object({ command: z.enum(["newChat", "search", "settings", "import", "stop"]) }),
} as const;

export type EventName = keyof typeof events;
export type EventOf<E extends EventName> = z.infer<(typeof events)[E]>;

// ---------- the API object the renderer sees ----------

export type RequestApi = { [C in Channel]: (request: RequestOf<C>) => Promise<ReplyOf<C>> };

export interface ExitlaneApi {
  request<C extends Channel>(channel: C, payload: RequestOf<C>): Promise<ReplyOf<C>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
  /**
   * Imports files the user dropped or picked (File objects from a drop or an <input type=file>).
   * Electron resolves their paths in the preload; the web build uploads their bytes.
   * Several files form one Hugging Face folder import.
   */
  importFiles(files: File[], options?: ImportOptions): Promise<{ jobId: string }>;
  /** Which transport this is; for display only, the renderer never branches on it for behaviour. */
  readonly transport: "ipc" | "websocket";
}

/**
 * The same API with every reply passed through `settle` (how the context bridge's copies turn
 * errors into data and back): each method forwards all of its arguments as they are, so no layer
 * between the page and the back end can drop one (a wrapper that listed them once lost
 * importFiles' options in the desktop app).
 */
export function settleApi(api: ExitlaneApi, settle: <T>(reply: Promise<T>) => Promise<T>): ExitlaneApi {
  return {
    transport: api.transport,
    request: (...args) => settle(api.request(...args)),
    on: (...args) => api.on(...args),
    importFiles: (...args) => settle(api.importFiles(...args)),
  };
}

// ---------- wire format (shared by IPC and WebSocket) ----------

/** Error replies carry the one error shape of wire/errors.ts (code, message, detail). */
export const ReplyEnvelope = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: WireError }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelope>;

/** WebSocket: client -> host. */
export const WsRequest = z
  .object({ id: z.number().int(), channel: z.string().max(100), payload: z.unknown() })
  .strict();
/** One contract event as it travels. */
export interface WireEvent {
  event: EventName;
  payload: unknown;
}
/** WebSocket: host -> client, a reply or the events of one tick, in order (electron/event-batches.ts). */
export type WsMessage =
  ({ type: "reply"; id: number } & ReplyEnvelope) | { type: "events"; events: WireEvent[] };

/**
 * Loopback web host routes (all need the per-run token: the cookie set by the first `/?token=…`
 * page load, or `?token=` on the URL).
 * - WS_PATH: the WebSocket carrying WsRequest / WsMessage.
 * - UPLOAD_PATH: POST multipart/form-data, one or more `file` fields (file name = relative path,
 *   e.g. "my-model/config.json" for a folder), and the import options in the query (uploadQuery:
 *   `quant=int8`, `again=1`); answers 200 `{ jobId }` or an error status with
 *   `{ error: WireError }`. The files are streamed to a temporary folder and imported from there.
 */
export const WS_PATH = "/ws";
export const UPLOAD_PATH = "/upload";

export const channels = Object.keys(requests) as Channel[];
export const eventNames = Object.keys(events) as EventName[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(requests, name);
}
