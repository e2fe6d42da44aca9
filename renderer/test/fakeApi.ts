// An in-memory ExitlaneApi for unit and component tests: a tiny back end with conversations, models
// and settings, every request recorded, and helpers to emit events (tokens, done, import and
// download progress: `emit("download.progress", makeDownload({...}))`).
import {
  requests,
  type CatalogEntry,
  type Channel,
  type Conversation,
  type DownloadJob,
  type EngineInfo,
  type EngineStatus,
  type EventName,
  type EventOf,
  type ExitlaneApi,
  type ImportOptions,
  type Message,
  type ModelSummary,
  type ReplyOf,
  type RequestOf,
  type ChatSampling,
  type ServerStatus,
  type Settings,
} from "../../electron/contract";

export const defaultSampling: ChatSampling = {
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  minP: 0.05,
  repetitionPenalty: 1.1,
  maxTokens: 256,
  seed: null,
};

export const engineInfo: EngineInfo = {
  onnxruntimeVersion: "1.30.0",
  executionProviders: [
    { name: "cpu", bundled: true },
    { name: "webgpu", bundled: true },
  ],
  cpu: {
    model: "Intel(R) Xeon(R) Platinum 8480C",
    cores: 2,
    simd: ["sse4.2", "avx2", "avx512f", "amx"],
    arch: "x64",
  },
  totalMemoryBytes: 8 * 2 ** 30,
  platform: "linux",
  nativeKernels: {
    available: true,
    kernels: ["avx512-vnni", "avx2", "scalar"],
    detail: "native kernels (avx512-vnni) from exitlane_native.node",
  },
  hostPid: 4242,
};

export function makeModel(over: Partial<ModelSummary> = {}): ModelSummary {
  return {
    id: "stories260k",
    name: "stories260K",
    arch: "llama",
    params: 260_000,
    quant: "f32",
    layers: 5,
    contextLength: 512,
    sizeBytes: 1_200_000,
    sourceFormat: "gguf",
    sourceFile: "stories260K-f32.gguf",
    createdAt: "2025-01-01T00:00:00.000Z",
    mode: "chat",
    calibration: {
      status: "calibrated",
      curve: [
        { knob: 0, agreement: 1, meanExitLayer: 5, speedup: 1 },
        { knob: 0.5, agreement: 0.98, meanExitLayer: 3.6, speedup: 1.4 },
        { knob: 1, agreement: 0.9, meanExitLayer: 2.2, speedup: 2.1 },
      ],
    },
    ...over,
  };
}

export const catalogEntries: CatalogEntry[] = [
  {
    id: "stories-260k",
    name: "Stories 260K",
    repo: "exitlane-test/stories260K-GGUF",
    file: "stories260K-f32.gguf",
    sizeBytes: 1_185_000,
    ramBytes: 8 * 2 ** 20,
    params: 260_000,
    arch: "llama",
    licence: "MIT",
    goodFor: "Trying Exitlane out: it writes tiny children's stories.",
  },
  {
    id: "qwen-small",
    name: "Qwen 0.5B Instruct",
    repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
    file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
    sizeBytes: 491_000_000,
    ramBytes: 1.2 * 2 ** 30,
    params: 494_000_000,
    arch: "qwen2",
    licence: "Apache-2.0",
    goodFor: "Short chats and summaries on any laptop.",
  },
];

/** A download job in a given state (tests emit these as download.progress). */
export function makeDownload(over: Partial<DownloadJob> = {}): DownloadJob {
  return {
    jobId: "dl1",
    repo: "exitlane-test/stories260K-GGUF",
    file: "stories260K-f32.gguf",
    state: "downloading",
    receivedBytes: 0,
    totalBytes: 1_185_000,
    bytesPerSecond: 0,
    etaSeconds: null,
    ...over,
  };
}

type Handler<C extends Channel> = (payload: RequestOf<C>) => ReplyOf<C> | Promise<ReplyOf<C>>;

export interface FakeApi extends ExitlaneApi {
  calls: { channel: Channel; payload: unknown }[];
  imported: File[][];
  /** The options each importFiles call came with, in order. */
  importOptions: ImportOptions[];
  conversations: Conversation[];
  messages: Map<string, Message[]>;
  models: ModelSummary[];
  settings: Settings;
  status: EngineStatus;
  emit<E extends EventName>(event: E, payload: EventOf<E>): void;
  handle<C extends Channel>(channel: C, handler: Handler<C>): void;
  listenerCount(event: EventName): number;
  /** Emits `texts` as generation.token events for a message (exit layers cycle through `layers`). */
  streamTokens(
    conversationId: string,
    messageId: string,
    texts: string[],
    opts?: { layers?: number; exitLayers?: number[]; startIndex?: number; ms?: number },
  ): void;
  finish(conversationId: string, messageId: string, stopReason?: "eos" | "stopped" | "max_tokens"): void;
}

export function createFakeApi(
  init: {
    models?: ModelSummary[];
    conversations?: { title: string; messages?: [Message["role"], string][] }[];
  } = {},
): FakeApi {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const overrides = new Map<Channel, Handler<Channel>>();
  let seq = 0;
  const nextId = (p: string) => `${p}${++seq}`;
  const now = () => new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString();
  const models = init.models ?? [makeModel()];
  const settings: Settings = {
    threads: 2,
    executionProvider: "cpu",
    contextLength: 2048,
    modelsDir: "/home/user/.config/Exitlane/models",
    theme: "system",
    defaultSampling,
    knob: 0,
    activeModelId: models[0]?.id ?? null,
    server: { enabled: false, port: 1234 },
  };
  let server: ServerStatus = { running: false, url: null, apiKey: null };
  const status: EngineStatus = { state: "ready", loadedModelId: settings.activeModelId };
  const token = { stored: false, canStore: false, endpoint: "https://huggingface.co" };
  const conversations: Conversation[] = [];
  const messages = new Map<string, Message[]>();
  const streamed = new Map<string, { texts: string[]; layers: number[] }>();
  /** Answer versions set aside by a regenerate (the back end keeps them in SQLite). */
  const asideVersions = new Map<string, Message>();

  const makeMessage = (conversationId: string, role: Message["role"], content: string): Message => ({
    id: nextId("m"),
    conversationId,
    role,
    content,
    createdAt: now(),
    exitLayers: [],
    tokenTexts: [],
    stats: null,
    modelId: role === "assistant" ? settings.activeModelId : null,
  });

  for (const c of init.conversations ?? []) {
    const conv: Conversation = {
      id: nextId("c"),
      title: c.title,
      updatedAt: now(),
      modelId: settings.activeModelId,
      preview: c.messages?.[c.messages.length - 1]?.[1].slice(0, 80) ?? "",
      systemPrompt: "",
      sampling: defaultSampling,
      overflow: "drop-oldest",
      createdAt: now(),
    };
    conversations.unshift(conv);
    messages.set(
      conv.id,
      (c.messages ?? []).map(([role, content]) => {
        const m = makeMessage(conv.id, role, content);
        if (role === "assistant") {
          m.tokenTexts = content.split(/(?<= )/);
          m.exitLayers = m.tokenTexts.map((_, i) => 1 + (i % 5));
          m.stats = {
            tokens: m.tokenTexts.length,
            tokensPerSecond: 50,
            timeToFirstTokenMs: 30,
            meanExitLayer: 3,
            layers: 5,
            stopReason: "eos",
          };
        }
        return m;
      }),
    );
  }

  const summary = (c: Conversation) => ({
    id: c.id,
    title: c.title,
    updatedAt: c.updatedAt,
    modelId: c.modelId,
    preview: c.preview,
  });
  const conv = (id: string) => {
    const c = conversations.find((x) => x.id === id);
    if (!c) throw Object.assign(new Error(`No conversation ${id}`), { code: "not_found" });
    return c;
  };

  const handlers: { [C in Channel]?: Handler<C> } = {
    "engine.info": () => engineInfo,
    "engine.status": () => status,
    "engine.usage": () => ({ pid: engineInfo.hostPid, rssBytes: 300 * 2 ** 20, cpuPercent: 12.4 }),
    "models.list": () => models,
    "models.jobs": () => [],
    "models.importPath": () => ({ jobId: nextId("job") }),
    "models.importDialog": () => ({ jobId: nextId("job") }),
    "models.cancelImport": () => ({ cancelled: true }),
    "models.restartImport": () => ({ jobId: nextId("job") }),
    "models.rename": ({ id, name }) => {
      const m = models.find((x) => x.id === id)!;
      m.name = name;
      return m;
    },
    "models.delete": ({ id }) => {
      const i = models.findIndex((x) => x.id === id);
      if (i >= 0) models.splice(i, 1);
      return { deleted: i >= 0 };
    },
    "models.select": ({ id }) => {
      settings.activeModelId = id;
      status.loadedModelId = id;
      return { ...status };
    },
    "models.calibrate": () => ({ jobId: nextId("job") }),
    "hub.catalog": () => catalogEntries,
    "hub.listRepo": ({ repo }) => ({
      repo,
      files: [{ path: "model-f32.gguf", sizeBytes: 1_185_000, sha256: null }],
      arch: "llama",
    }),
    "hub.tokenStatus": () => token,
    "hub.setToken": ({ token: value }) => Object.assign(token, { stored: value !== null }),
    "downloads.start": () => ({ jobId: nextId("dl") }),
    "downloads.cancel": () => ({ cancelled: true }),
    "downloads.list": () => [],
    "chat.list": ({ query }) =>
      conversations
        .filter(
          (c) =>
            !query ||
            c.title.includes(query) ||
            (messages.get(c.id) ?? []).some((m) => m.content.includes(query)),
        )
        .map((c) => {
          // The back end cuts the text around the match; the whole message will do here.
          const match = query ? messages.get(c.id)?.find((m) => m.content.includes(query)) : undefined;
          return match ? { ...summary(c), snippet: match.content } : summary(c);
        }),
    "chat.create": ({ title }) => {
      const c: Conversation = {
        id: nextId("c"),
        title: title ?? "New chat",
        updatedAt: now(),
        modelId: settings.activeModelId,
        preview: "",
        systemPrompt: "",
        sampling: settings.defaultSampling,
        overflow: "drop-oldest",
        createdAt: now(),
      };
      conversations.unshift(c);
      messages.set(c.id, []);
      return c;
    },
    "chat.get": ({ id }) => ({ conversation: conv(id), messages: messages.get(id) ?? [] }),
    "chat.rename": ({ id, title }) => {
      const c = conv(id);
      c.title = title;
      return c;
    },
    "chat.delete": ({ id }) => {
      const i = conversations.findIndex((x) => x.id === id);
      if (i >= 0) conversations.splice(i, 1);
      messages.delete(id);
      return { deleted: i >= 0 };
    },
    "chat.update": ({ id, systemPrompt, sampling }) => {
      const c = conv(id);
      if (systemPrompt !== undefined) c.systemPrompt = systemPrompt;
      if (sampling) c.sampling = sampling;
      return c;
    },
    "chat.send": ({ conversationId, text }) => {
      const c = conv(conversationId);
      const user = makeMessage(conversationId, "user", text);
      const answer = makeMessage(conversationId, "assistant", "");
      messages.get(conversationId)!.push(user, answer);
      // Like the back end: the first message names a new chat (numbered when the name is taken).
      if (c.title === "New chat") {
        const base = text.trim().split("\n")[0].slice(0, 60);
        const taken = new Set(conversations.map((x) => x.title));
        let title = base;
        for (let n = 2; taken.has(title); n++) title = `${base} (${n})`;
        c.title = title;
      }
      c.preview = text.slice(0, 160);
      return { userMessage: user, assistantMessageId: answer.id, conversation: c };
    },
    "chat.regenerate": ({ conversationId }) => {
      const list = messages.get(conversationId)!;
      const answer = makeMessage(conversationId, "assistant", "");
      const before = list[list.length - 1]?.role === "assistant" ? list.pop()! : null;
      // Like the back end: the answer before stays as a version unless it is empty.
      if (before) {
        const versions = (before.versions ?? [before.id]).filter((id) => id !== before.id || before.content);
        if (before.content) asideVersions.set(before.id, before);
        if (versions.length) {
          answer.versions = [...versions, answer.id];
          for (const id of versions) asideVersions.get(id)!.versions = answer.versions;
        }
      }
      list.push(answer);
      return { assistantMessageId: answer.id };
    },
    "chat.showVersion": ({ conversationId, messageId }) => {
      const list = messages.get(conversationId)!;
      const target = asideVersions.get(messageId);
      const i = list.findIndex((m) => m.versions?.includes(messageId));
      if (!target || i === -1)
        throw Object.assign(new Error(`No answer ${messageId}`), { code: "not_found" });
      asideVersions.set(list[i].id, list[i]);
      asideVersions.delete(messageId);
      list[i] = { ...target, versions: list[i].versions };
      return { conversation: conv(conversationId), messages: list };
    },
    "chat.edit": ({ conversationId, messageId, text }) => {
      const list = messages.get(conversationId)!;
      const i = list.findIndex((m) => m.id === messageId);
      list.splice(i);
      const user = makeMessage(conversationId, "user", text);
      const answer = makeMessage(conversationId, "assistant", "");
      list.push(user, answer);
      return { userMessage: user, assistantMessageId: answer.id };
    },
    "chat.stop": () => ({ stopped: true }),
    "chat.export": ({ id }) => ({ filename: `${conv(id).title}.md`, markdown: `# ${conv(id).title}\n` }),
    "settings.get": () => settings,
    "settings.set": (patch) => {
      Object.assign(settings, patch);
      if (patch.server) {
        // Like the back end: the server follows settings.server and reports through server.status.
        server = patch.server.enabled
          ? {
              running: true,
              url: `http://127.0.0.1:${patch.server.port}/v1`,
              apiKey: server.apiKey ?? "sk-exitlane-fake1",
            }
          : { running: false, url: null, apiKey: null };
        api.emit("server.status", server);
      }
      return settings;
    },
    "server.status": () => server,
    "server.newKey": () => {
      server = { ...server, apiKey: `sk-exitlane-rotated${++seq}` };
      api.emit("server.status", server);
      return server;
    },
    "generation.setKnob": ({ value }) => Object.assign(settings, { knob: value }),
  };

  const api: FakeApi = {
    transport: "websocket",
    calls: [],
    imported: [],
    importOptions: [],
    conversations,
    messages,
    models,
    settings,
    status,
    async request<C extends Channel>(channel: C, payload: RequestOf<C>): Promise<ReplyOf<C>> {
      api.calls.push({ channel, payload });
      const checked = requests[channel].request.safeParse(payload);
      if (!checked.success) throw new Error(`bad request for ${channel}: ${checked.error.message}`);
      const h = (overrides.get(channel) ?? handlers[channel]) as Handler<C> | undefined;
      if (!h) throw new Error(`fake api: no handler for ${channel}`);
      const reply = await h(payload);
      // Copies, as a real transport would serialise.
      return structuredClone(reply);
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (p: unknown) => void);
      return () => set!.delete(listener as (p: unknown) => void);
    },
    async importFiles(files, options = {}) {
      api.imported.push(files);
      api.importOptions.push(options);
      return { jobId: nextId("job") };
    },
    emit(event, payload) {
      for (const l of [...(listeners.get(event) ?? [])]) l(payload);
    },
    handle(channel, handler) {
      overrides.set(channel, handler as unknown as Handler<Channel>);
    },
    listenerCount(event) {
      return listeners.get(event)?.size ?? 0;
    },
    streamTokens(conversationId, messageId, texts, opts = {}) {
      const layers = opts.layers ?? 5;
      const acc = streamed.get(messageId) ?? { texts: [], layers: [] };
      streamed.set(messageId, acc);
      texts.forEach((text, i) => {
        const replay = opts.startIndex !== undefined;
        const index = replay ? opts.startIndex! + i : acc.texts.length;
        const exitLayer = opts.exitLayers?.[i] ?? 1 + (index % layers);
        api.emit("generation.token", {
          conversationId,
          messageId,
          index,
          tokenId: i,
          text,
          exitLayer,
          ms: opts.ms ?? 20,
        });
        if (!replay) {
          acc.texts.push(text);
          acc.layers.push(exitLayer);
        }
      });
    },
    finish(conversationId, messageId, stopReason = "eos") {
      const acc = streamed.get(messageId) ?? { texts: [], layers: [] };
      const tokens = acc.texts.length;
      const mean = tokens ? acc.layers.reduce((a, b) => a + b, 0) / tokens : 0;
      const stats = {
        tokens,
        tokensPerSecond: 50,
        timeToFirstTokenMs: 20,
        meanExitLayer: mean,
        layers: 5,
        stopReason,
      };
      const m = messages.get(conversationId)?.find((x) => x.id === messageId);
      if (m)
        Object.assign(m, {
          content: acc.texts.join(""),
          tokenTexts: acc.texts.slice(),
          exitLayers: acc.layers.slice(),
          stats,
        });
      api.emit("generation.done", { conversationId, messageId, stats });
    },
  };
  return api;
}

/** A scheduler whose frames run only when the test says so. */
export function manualScheduler() {
  const queue: (() => void)[] = [];
  return {
    schedule: (run: () => void) => {
      let cancelled = false;
      queue.push(() => {
        if (!cancelled) run();
      });
      return () => {
        cancelled = true;
      };
    },
    runFrame() {
      const jobs = queue.splice(0);
      for (const j of jobs) j();
    },
    get pending() {
      return queue.length;
    },
  };
}
