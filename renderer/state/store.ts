// The renderer's state: one zustand store, created around an ExitlaneApi (the real one in the app,
// a fake in tests). Components read slices with selectors and call the actions; all list updates
// go through the pure functions in chatOps / streamProcessor / importJobs.
import { createStore, type StoreApi } from "zustand/vanilla";
import type {
  Conversation,
  ConversationSummary,
  EngineInfo,
  EngineStatus,
  EventOf,
  ExitlaneApi,
  ImportJob,
  ModelSummary,
  Sampling,
  Settings,
} from "../../electron/contract";
import { errorMessage, isConnectionAware, type ConnectionState } from "../api/wsApi";
import { hasNativeImportDialog } from "../api/createApi";
import {
  LOCAL_PREFIX,
  lastAnswer,
  localUserMessage,
  placeExchange,
  replaceFromMessage,
  replaceLastAnswer,
  touchConversation,
} from "./chatOps";
import { downloadText } from "./download";
import { createFrameBatcher, type FrameBatcher, type Scheduler, frameScheduler } from "./frameBatcher";
import { precheckGroup, sourceName, upsertJob, type DropGroup } from "./importJobs";
import {
  applyDone,
  applyStreamEvents,
  createStreamingMessage,
  interruptMessage,
  type TokenEvent,
} from "./streamProcessor";
import { toUiMessage, type UiMessage } from "./types";

export type View = "chat" | "models" | "settings";

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
}

/** A drop or pick that has not become an import job yet (uploading), or that was refused. */
export interface LocalImport {
  key: string;
  label: string;
  state: "sending" | "refused";
  error?: string;
}

export interface Generation {
  conversationId: string;
  messageId: string;
  /** When Stop was pressed (ms, performance clock), or null. */
  stopRequestedAt: number | null;
}

export interface AppState {
  view: View;
  connection: ConnectionState | "ipc";
  transport: ExitlaneApi["transport"];
  nativeImportDialog: boolean;

  conversations: ConversationSummary[];
  conversationsLoaded: boolean;
  searchQuery: string;
  activeId: string | null;
  conversation: Conversation | null;
  messages: UiMessage[];
  loadingConversation: boolean;
  generation: Generation | null;
  /** The answer the charts show: the streaming one, or the one the user picked. */
  chartMessageId: string | null;
  /** Incremented to ask the sidebar to focus its search field (Ctrl/Cmd+K). */
  searchFocusTick: number;
  composerFocusTick: number;
  /** Text handed back to the composer when a send failed. */
  composerRestore: { text: string; tick: number } | null;

  models: ModelSummary[];
  modelsLoaded: boolean;
  jobs: ImportJob[];
  localImports: LocalImport[];
  selectingModelId: string | null;

  engineInfo: EngineInfo | null;
  engineInfoError: string | null;
  engineStatus: EngineStatus | null;
  settings: Settings | null;
  fallbackDismissed: string | null;

  toasts: Toast[];

  // actions
  init(): Promise<void>;
  dispose(): void;
  setView(view: View): void;
  toast(kind: Toast["kind"], text: string): void;
  dismissToast(id: number): void;
  requestSearchFocus(): void;
  requestComposerFocus(): void;

  refreshConversations(): Promise<void>;
  setSearchQuery(query: string): void;
  /** Opens a conversation and shows the chat (unless `showChat` is false: the start-up default). */
  openConversation(id: string, showChat?: boolean): Promise<void>;
  newConversation(): Promise<void>;
  renameConversation(id: string, title: string): Promise<void>;
  deleteConversation(id: string): Promise<void>;
  updateConversation(patch: {
    systemPrompt?: string;
    sampling?: Sampling;
    overflow?: Conversation["overflow"];
  }): Promise<boolean>;
  exportConversation(id: string): Promise<void>;
  send(text: string): Promise<boolean>;
  stop(): Promise<void>;
  regenerate(): Promise<void>;
  editAndResend(messageId: string, text: string): Promise<void>;
  showInCharts(messageId: string): void;
  applyTokenBatch(tokens: TokenEvent[]): void;
  applyDoneEvent(done: EventOf<"generation.done">): void;

  refreshModels(): Promise<void>;
  refreshJobs(): Promise<void>;
  selectModel(id: string | null): Promise<void>;
  /** Loads a model and opens the chat once it is loaded (a failure is a toast, and the view stays). */
  useModelInChat(id: string): Promise<void>;
  renameModel(id: string, name: string): Promise<void>;
  deleteModel(id: string): Promise<void>;
  calibrateModel(id: string): Promise<void>;
  importGroups(groups: DropGroup[]): Promise<void>;
  importWithDialog(folder: boolean): Promise<void>;
  cancelImport(jobId: string): Promise<void>;
  dismissJob(jobId: string): void;
  dismissLocalImport(key: string): void;

  refreshEngine(): Promise<void>;
  updateSettings(patch: Partial<Settings>): Promise<void>;
  setKnob(value: number): Promise<void>;
  chooseModelsDir(): Promise<void>;
  dismissFallback(): void;
}

export interface StoreOptions {
  scheduler?: Scheduler;
  /** How long after Stop an answer that the engine never ended is closed locally (ms). */
  stopGraceMs?: number;
  now?: () => number;
}

export type AppStore = StoreApi<AppState>;

export function createAppStore(api: ExitlaneApi, options: StoreOptions = {}): AppStore {
  const stopGraceMs = options.stopGraceMs ?? 2000;
  const now = options.now ?? (() => performance.now());
  let batcher: FrameBatcher<TokenEvent> | null = null;
  const unsubscribers: (() => void)[] = [];
  let toastId = 0;
  let localId = 0;
  let listSeq = 0;
  let openSeq = 0;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;

  return createStore<AppState>()((set, get) => {
    const fail = (what: string, err: unknown) => get().toast("error", `${what}: ${errorMessage(err)}`);

    const activeModelId = () => get().settings?.activeModelId ?? get().engineStatus?.loadedModelId ?? null;

    /** Ends the streaming answer locally (engine restart, lost connection, stuck stop). */
    const interruptGeneration = (reason: "stopped" | "interrupted" | "error", error?: string) => {
      const g = get().generation;
      if (!g) return;
      batcher?.flush();
      set((s) => ({
        generation: null,
        messages: s.messages.map((m) => (m.id === g.messageId ? interruptMessage(m, reason, error) : m)),
      }));
    };

    const startGeneration = (conversationId: string, messageId: string) => {
      set({ generation: { conversationId, messageId, stopRequestedAt: null }, chartMessageId: messageId });
    };

    return {
      view: "chat",
      connection: isConnectionAware(api) ? api.connectionState : "ipc",
      transport: api.transport,
      nativeImportDialog: hasNativeImportDialog(api),

      conversations: [],
      conversationsLoaded: false,
      searchQuery: "",
      activeId: null,
      conversation: null,
      messages: [],
      loadingConversation: false,
      generation: null,
      chartMessageId: null,
      searchFocusTick: 0,
      composerFocusTick: 0,
      composerRestore: null,

      models: [],
      modelsLoaded: false,
      jobs: [],
      localImports: [],
      selectingModelId: null,

      engineInfo: null,
      engineInfoError: null,
      engineStatus: null,
      settings: null,
      fallbackDismissed: null,

      toasts: [],

      async init() {
        batcher = createFrameBatcher<TokenEvent>(
          (tokens) => get().applyTokenBatch(tokens),
          options.scheduler ?? frameScheduler,
        );
        unsubscribers.push(
          api.on("generation.token", (t) => batcher!.push(t)),
          api.on("generation.done", (d) => {
            batcher!.flush();
            get().applyDoneEvent(d);
          }),
          api.on("import.progress", (job) => {
            const before = get().jobs.find((j) => j.jobId === job.jobId);
            set((s) => ({ jobs: upsertJob(s.jobs, job) }));
            if (job.state === "done" && before?.state !== "done") void get().refreshModels();
          }),
          api.on("engine.status", (status) => {
            set({ engineStatus: status });
            if (status.state === "restarting" || status.state === "crashed") {
              interruptGeneration(
                "interrupted",
                "The engine stopped while answering and is being restarted. The conversation is kept; press Regenerate to try again.",
              );
            }
          }),
          api.on("models.changed", () => void get().refreshModels()),
        );
        if (isConnectionAware(api)) {
          unsubscribers.push(
            api.onConnectionChange((state) => {
              const was = get().connection;
              set({ connection: state });
              if (state === "open" && was !== "open" && was !== "connecting") {
                // Back after a drop: events sent meanwhile are lost, so refetch what they would have changed.
                void resync();
              }
            }),
          );
        }
        await Promise.all([
          get().refreshEngine(),
          api
            .request("settings.get", {})
            .then((settings) => set({ settings }))
            .catch((err) => fail("Could not read settings", err)),
          get().refreshModels(),
          get().refreshJobs(),
          get().refreshConversations(),
        ]);
        const first = get().conversations[0];
        // The latest chat opens in the background: whoever went to Settings or Models while the app
        // was starting stays there.
        if (!get().activeId && first) await get().openConversation(first.id, false);
      },

      dispose() {
        for (const u of unsubscribers.splice(0)) u();
        batcher?.dispose();
        clearTimeout(stopTimer);
      },

      setView(view) {
        set({ view });
      },
      toast(kind, text) {
        const id = ++toastId;
        set((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text }] }));
      },
      dismissToast(id) {
        set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
      },
      requestSearchFocus() {
        set((s) => ({ searchFocusTick: s.searchFocusTick + 1 }));
      },
      requestComposerFocus() {
        set((s) => ({ composerFocusTick: s.composerFocusTick + 1 }));
      },

      async refreshConversations() {
        const seq = ++listSeq;
        const query = get().searchQuery.trim();
        try {
          const list = await api.request("chat.list", query ? { query } : {});
          if (seq === listSeq) set({ conversations: list, conversationsLoaded: true });
        } catch (err) {
          if (seq === listSeq) set({ conversationsLoaded: true });
          fail("Could not load conversations", err);
        }
      },

      setSearchQuery(query) {
        set({ searchQuery: query });
      },

      async openConversation(id, showChat = true) {
        const seq = ++openSeq;
        set({ activeId: id, loadingConversation: true, ...(showChat ? { view: "chat" as const } : {}) });
        try {
          const { conversation, messages } = await api.request("chat.get", { id });
          if (seq !== openSeq) return;
          const g = get().generation;
          const ui = messages
            .map(toUiMessage)
            .map((m) => (g && g.messageId === m.id && !m.stats ? { ...m, streaming: true } : m));
          set((s) => ({
            conversation,
            // Tokens that streamed in before the reply came are kept (they are newer than the snapshot).
            messages: mergeSnapshot(
              ui,
              s.activeId === id ? s.messages.filter((m) => m.conversationId === id && m.streaming) : [],
            ),
            loadingConversation: false,
            chartMessageId: g?.conversationId === id ? g.messageId : (lastAnswer(ui)?.id ?? null),
          }));
        } catch (err) {
          if (seq !== openSeq) return;
          set({ loadingConversation: false });
          fail("Could not open the conversation", err);
        }
      },

      async newConversation() {
        try {
          const conversation = await api.request("chat.create", {});
          openSeq++;
          set((s) => ({
            conversations: [conversation, ...s.conversations.filter((c) => c.id !== conversation.id)],
            activeId: conversation.id,
            conversation,
            messages: [],
            chartMessageId: null,
            view: "chat",
            loadingConversation: false,
            composerFocusTick: s.composerFocusTick + 1,
          }));
        } catch (err) {
          fail("Could not start a new chat", err);
        }
      },

      async renameConversation(id, title) {
        const clean = title.trim().slice(0, 200);
        if (!clean) return;
        try {
          const updated = await api.request("chat.rename", { id, title: clean });
          set((s) => ({
            conversations: s.conversations.map((c) => (c.id === id ? { ...c, title: updated.title } : c)),
            conversation: s.conversation?.id === id ? updated : s.conversation,
          }));
        } catch (err) {
          fail("Could not rename the conversation", err);
        }
      },

      async deleteConversation(id) {
        try {
          if (get().generation?.conversationId === id) await get().stop();
          await api.request("chat.delete", { id });
          const wasActive = get().activeId === id;
          set((s) => ({ conversations: s.conversations.filter((c) => c.id !== id) }));
          if (wasActive) {
            openSeq++;
            set({ activeId: null, conversation: null, messages: [], chartMessageId: null });
            const next = get().conversations[0];
            if (next) await get().openConversation(next.id);
          }
        } catch (err) {
          fail("Could not delete the conversation", err);
        }
      },

      async updateConversation(patch) {
        const id = get().activeId;
        if (!id) return false;
        try {
          const conversation = await api.request("chat.update", { id, ...patch });
          if (get().activeId === id) set({ conversation });
          return true;
        } catch (err) {
          fail("Could not save the conversation settings", err);
          return false;
        }
      },

      async exportConversation(id) {
        try {
          const { filename, markdown } = await api.request("chat.export", { id });
          downloadText(filename, markdown);
        } catch (err) {
          fail("Could not export the conversation", err);
        }
      },

      async send(text) {
        const body = text.trim();
        if (!body) return false;
        if (get().generation) {
          get().toast("info", "Wait for the current answer to finish, or press Stop (Esc).");
          return false;
        }
        if (!activeModelId()) {
          get().toast(
            "error",
            "No model is loaded. Pick one in the model menu above, or import one in Models.",
          );
          return false;
        }
        let conversationId = get().activeId;
        if (!conversationId) {
          await get().newConversation();
          conversationId = get().activeId;
          if (!conversationId) return false;
        }
        const local = localUserMessage(conversationId, text, ++localId);
        set((s) => ({ messages: [...s.messages, local] }));
        try {
          const { userMessage, assistantMessageId } = await api.request("chat.send", {
            conversationId,
            text,
          });
          if (get().activeId === conversationId) {
            set((s) => ({
              messages: placeExchange(s.messages, userMessage, assistantMessageId, local.id, activeModelId()),
            }));
          }
          // The answer may already be over (a done event can beat the reply): only start tracking it if not.
          const answer = get().messages.find((m) => m.id === assistantMessageId);
          if (!answer || answer.streaming) startGeneration(conversationId, assistantMessageId);
          set((s) => ({ conversations: touchConversation(s.conversations, conversationId!, body) }));
          return true;
        } catch (err) {
          set((s) => ({
            messages: s.messages.filter((m) => m.id !== local.id),
            composerRestore: { text, tick: (s.composerRestore?.tick ?? 0) + 1 },
          }));
          fail("The message was not sent", err);
          return false;
        }
      },

      async stop() {
        const g = get().generation;
        if (!g || g.stopRequestedAt !== null) return;
        set({ generation: { ...g, stopRequestedAt: now() } });
        clearTimeout(stopTimer);
        // A Stop button must never get stuck: if the engine does not end the answer, close it here.
        stopTimer = setTimeout(() => {
          if (get().generation?.messageId === g.messageId) interruptGeneration("stopped");
        }, stopGraceMs);
        try {
          await api.request("chat.stop", { conversationId: g.conversationId });
        } catch (err) {
          interruptGeneration("stopped");
          fail("Stopping failed", err);
        }
      },

      async regenerate() {
        const conversationId = get().activeId;
        if (!conversationId || get().generation) return;
        try {
          const { assistantMessageId } = await api.request("chat.regenerate", { conversationId });
          if (get().activeId === conversationId) {
            set((s) => ({
              messages: replaceLastAnswer(s.messages, conversationId, assistantMessageId, activeModelId()),
            }));
          }
          const answer = get().messages.find((m) => m.id === assistantMessageId);
          if (!answer || answer.streaming) startGeneration(conversationId, assistantMessageId);
        } catch (err) {
          fail("Could not regenerate the answer", err);
        }
      },

      async editAndResend(messageId, text) {
        const conversationId = get().activeId;
        const body = text.trim();
        if (!conversationId || !body || get().generation || messageId.startsWith(LOCAL_PREFIX)) return;
        try {
          const { userMessage, assistantMessageId } = await api.request("chat.edit", {
            conversationId,
            messageId,
            text,
          });
          if (get().activeId === conversationId) {
            set((s) => ({
              messages: replaceFromMessage(
                s.messages,
                messageId,
                userMessage,
                assistantMessageId,
                activeModelId(),
              ),
            }));
          }
          const answer = get().messages.find((m) => m.id === assistantMessageId);
          if (!answer || answer.streaming) startGeneration(conversationId, assistantMessageId);
        } catch (err) {
          fail("Could not send the edited message", err);
        }
      },

      showInCharts(messageId) {
        set({ chartMessageId: messageId });
      },

      applyTokenBatch(tokens) {
        if (tokens.length === 0) return;
        const s = get();
        const last = tokens[tokens.length - 1];
        const patch: Partial<AppState> = {};
        // Tokens of an answer this window did not start (another window, or after a reload).
        if (!s.generation || s.generation.messageId !== last.messageId) {
          const sealed = s.messages.find((m) => m.id === last.messageId && !m.streaming && m.stats);
          if (!sealed) {
            patch.generation = {
              conversationId: last.conversationId,
              messageId: last.messageId,
              stopRequestedAt: null,
            };
            if (last.conversationId === s.activeId) patch.chartMessageId = last.messageId;
          }
        }
        if (s.activeId) {
          const layersOf = (id: string | null) => s.models.find((m) => m.id === id)?.layers ?? 0;
          const messages = applyStreamEvents(s.messages, s.activeId, tokens, activeModelId(), layersOf);
          if (messages !== s.messages) patch.messages = messages;
        }
        set(patch);
      },

      applyDoneEvent(done) {
        const s = get();
        const g = s.generation;
        if (g?.messageId === done.messageId) clearTimeout(stopTimer);
        let needsResync = false;
        const messages = s.messages.map((m) => {
          if (m.id !== done.messageId) return m;
          const sealed = applyDone(m, done);
          // Tokens were missed (opened mid-answer, reconnect): the database has the full answer.
          if (sealed.tokenTexts.length < done.stats.tokens) needsResync = true;
          return sealed;
        });
        if (!messages.some((m) => m.id === done.messageId) && done.conversationId === s.activeId) {
          const placeholder = applyDone(
            createStreamingMessage(done.conversationId, done.messageId, activeModelId()),
            done,
          );
          messages.push(placeholder);
          needsResync = true;
        }
        set({
          messages,
          generation: g?.messageId === done.messageId ? null : g,
        });
        if (done.error) get().toast("error", `The answer ended with an error: ${done.error}`);
        const answer = messages.find((m) => m.id === done.messageId);
        if (answer)
          set((st) => ({
            conversations: touchConversation(st.conversations, done.conversationId, answer.content),
          }));
        if (needsResync && done.conversationId === get().activeId)
          void get().openConversation(done.conversationId);
      },

      async refreshModels() {
        try {
          const models = await api.request("models.list", {});
          set({ models, modelsLoaded: true });
        } catch (err) {
          set({ modelsLoaded: true });
          fail("Could not list the models", err);
        }
      },

      async refreshJobs() {
        try {
          const jobs = await api.request("models.jobs", {});
          set((s) => ({ jobs: jobs.reduce((acc, j) => upsertJob(acc, j), s.jobs) }));
        } catch (err) {
          fail("Could not list the imports", err);
        }
      },

      async useModelInChat(id) {
        await get().selectModel(id);
        if (get().settings?.activeModelId === id) get().setView("chat");
      },

      async selectModel(id) {
        set({ selectingModelId: id ?? "" });
        try {
          const status = await api.request("models.select", { id });
          set((s) => ({
            engineStatus: status,
            settings: s.settings ? { ...s.settings, activeModelId: status.loadedModelId ?? id } : s.settings,
          }));
        } catch (err) {
          fail(id ? "The model could not be loaded" : "The model could not be unloaded", err);
        } finally {
          set({ selectingModelId: null });
        }
      },

      async renameModel(id, name) {
        const clean = name.trim().slice(0, 200);
        if (!clean) return;
        try {
          const updated = await api.request("models.rename", { id, name: clean });
          set((s) => ({ models: s.models.map((m) => (m.id === id ? updated : m)) }));
        } catch (err) {
          fail("Could not rename the model", err);
        }
      },

      async deleteModel(id) {
        try {
          await api.request("models.delete", { id });
          set((s) => ({
            models: s.models.filter((m) => m.id !== id),
            settings: s.settings?.activeModelId === id ? { ...s.settings, activeModelId: null } : s.settings,
          }));
        } catch (err) {
          fail("Could not delete the model", err);
        }
      },

      async calibrateModel(id) {
        try {
          const { jobId } = await api.request("models.calibrate", { id });
          const model = get().models.find((m) => m.id === id);
          set((s) => ({
            jobs: upsertJob(s.jobs, {
              jobId,
              source: model?.name ?? id,
              stage: "calibrate",
              progress: 0,
              state: "running",
            }),
          }));
        } catch (err) {
          fail("Could not start calibration", err);
        }
      },

      async importGroups(groups) {
        await Promise.all(
          groups.map(async (group) => {
            const key = `import-${++localId}`;
            const refusal = precheckGroup(group);
            if (refusal) {
              set((s) => ({
                localImports: [
                  ...s.localImports,
                  { key, label: group.label, state: "refused", error: refusal },
                ],
              }));
              return;
            }
            set((s) => ({
              localImports: [...s.localImports, { key, label: group.label, state: "sending" }],
            }));
            try {
              const { jobId } = await api.importFiles(group.files);
              set((s) => ({
                localImports: s.localImports.filter((l) => l.key !== key),
                jobs: s.jobs.some((j) => j.jobId === jobId)
                  ? s.jobs
                  : upsertJob(s.jobs, {
                      jobId,
                      source: group.label,
                      stage: "read",
                      progress: 0,
                      state: "running",
                    }),
              }));
            } catch (err) {
              set((s) => ({
                localImports: s.localImports.map((l) =>
                  l.key === key
                    ? {
                        ...l,
                        state: "refused",
                        error: `${group.label} could not be imported: ${errorMessage(err)}`,
                      }
                    : l,
                ),
              }));
            }
          }),
        );
      },

      async importWithDialog(folder) {
        try {
          const reply = await api.request("models.importDialog", { folder });
          if (!reply) return;
          set((s) => ({
            jobs: s.jobs.some((j) => j.jobId === reply.jobId)
              ? s.jobs
              : upsertJob(s.jobs, {
                  jobId: reply.jobId,
                  source: folder ? "folder" : "file",
                  stage: "read",
                  progress: 0,
                  state: "running",
                }),
          }));
        } catch (err) {
          fail("Could not open the import dialog", err);
        }
      },

      async cancelImport(jobId) {
        try {
          await api.request("models.cancelImport", { jobId });
        } catch (err) {
          fail(
            `Could not cancel the import of ${sourceName(get().jobs.find((j) => j.jobId === jobId)?.source ?? jobId)}`,
            err,
          );
        }
      },

      dismissJob(jobId) {
        set((s) => ({ jobs: s.jobs.filter((j) => j.jobId !== jobId || j.state === "running") }));
      },
      dismissLocalImport(key) {
        set((s) => ({ localImports: s.localImports.filter((l) => l.key !== key) }));
      },

      async refreshEngine() {
        await Promise.all([
          api
            .request("engine.info", {})
            .then((engineInfo) => set({ engineInfo, engineInfoError: null }))
            .catch((err) => set({ engineInfoError: errorMessage(err) })),
          api
            .request("engine.status", {})
            .then((engineStatus) => set({ engineStatus }))
            .catch((err) => fail("Could not read the engine status", err)),
        ]);
      },

      async updateSettings(patch) {
        const before = get().settings;
        if (before) set({ settings: { ...before, ...patch } });
        try {
          const settings = await api.request("settings.set", patch);
          set({ settings });
        } catch (err) {
          set({ settings: before });
          fail("The setting was not saved", err);
        }
      },

      async setKnob(value) {
        const v = Math.min(1, Math.max(0, value));
        const before = get().settings;
        if (before) set({ settings: { ...before, knob: v } });
        try {
          const settings = await api.request("generation.setKnob", { value: v });
          // Keep the latest local position if the user moved on while this was in flight.
          set((s) => ({ settings: { ...settings, knob: s.settings?.knob ?? settings.knob } }));
        } catch (err) {
          fail("The speed setting was not applied", err);
        }
      },

      async chooseModelsDir() {
        try {
          const settings = await api.request("settings.chooseModelsDir", {});
          const changed = settings.modelsDir !== get().settings?.modelsDir;
          set({ settings });
          if (changed) await get().refreshModels();
        } catch (err) {
          fail("The models folder was not changed", err);
        }
      },

      dismissFallback() {
        set((s) => ({ fallbackDismissed: s.engineStatus?.fallbackNotice ?? null }));
      },
    };

    async function resync() {
      await Promise.all([
        get().refreshEngine(),
        get().refreshModels(),
        get().refreshJobs(),
        get().refreshConversations(),
      ]);
      const id = get().activeId;
      if (id) await get().openConversation(id);
      // An answer that ended while the connection was down lost its done event: close it here.
      const g = get().generation;
      if (g && g.conversationId === get().activeId) {
        const m = get().messages.find((x) => x.id === g.messageId);
        if (!m || m.stats)
          set({
            generation: null,
            messages: get().messages.map((x) => (x.id === g.messageId ? { ...x, streaming: false } : x)),
          });
      } else if (g) {
        interruptGeneration(
          "interrupted",
          "The connection dropped while answering; the answer may be incomplete.",
        );
      }
    }
  });
}

/** Snapshot from the database plus answers that are still streaming here (newer than the snapshot). */
function mergeSnapshot(snapshot: UiMessage[], streaming: UiMessage[]): UiMessage[] {
  if (streaming.length === 0) return snapshot;
  const out = snapshot.slice();
  for (const live of streaming) {
    const i = out.findIndex((m) => m.id === live.id);
    if (i === -1) out.push(live);
    else if (live.tokenTexts.length >= out[i].tokenTexts.length) out[i] = live;
  }
  return out;
}
