// The shape of the renderer's store, one interface per domain. The slices (./*Slice.ts) implement
// them; the types live here, apart from the code, so that slices can read each other's state
// without importing each other.
import type { StoreApi } from "zustand/vanilla";
import type {
  Conversation,
  ConversationSummary,
  EngineInfo,
  EngineStatus,
  EventOf,
  ExitlaneApi,
  ImportJob,
  ModelSummary,
  ChatSampling,
  Quant,
  Settings,
} from "../../../electron/contract";
import type { ConnectionState } from "../../api/wsApi";
import type { DropGroup } from "../importJobs";
import type { TokenEvent } from "../streamProcessor";
import type { UiMessage } from "../types";

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

/** Views, toasts, focus requests and the connection. */
export interface UiSlice {
  view: View;
  connection: ConnectionState | "ipc";
  transport: ExitlaneApi["transport"];
  nativeImportDialog: boolean;
  /** Incremented to ask the sidebar to focus its search field (Ctrl/Cmd+K). */
  searchFocusTick: number;
  composerFocusTick: number;
  toasts: Toast[];

  setView(view: View): void;
  toast(kind: Toast["kind"], text: string): void;
  dismissToast(id: number): void;
  requestSearchFocus(): void;
  requestComposerFocus(): void;
}

/** The conversation list and the open conversation with its messages. */
export interface ConversationsSlice {
  conversations: ConversationSummary[];
  conversationsLoaded: boolean;
  searchQuery: string;
  activeId: string | null;
  conversation: Conversation | null;
  messages: UiMessage[];
  loadingConversation: boolean;
  /** The answer the charts show: the streaming one, or the one the user picked. */
  chartMessageId: string | null;

  refreshConversations(): Promise<void>;
  setSearchQuery(query: string): void;
  /** Opens a conversation and shows the chat (unless `showChat` is false: the start-up default). */
  openConversation(id: string, showChat?: boolean): Promise<void>;
  newConversation(): Promise<void>;
  renameConversation(id: string, title: string): Promise<void>;
  deleteConversation(id: string): Promise<void>;
  updateConversation(patch: {
    systemPrompt?: string;
    sampling?: ChatSampling;
    overflow?: Conversation["overflow"];
    jsonAnswer?: Conversation["jsonAnswer"];
  }): Promise<boolean>;
  exportConversation(id: string): Promise<void>;
  /** Shows another version of a regenerated answer (Message.versions) in its place. */
  showVersion(messageId: string): Promise<void>;
  showInCharts(messageId: string): void;
}

/** Sending, answers streaming in, stopping, regenerating and editing. */
export interface GenerationSlice {
  generation: Generation | null;
  /** Text handed back to the composer when a send failed. */
  composerRestore: { text: string; tick: number } | null;

  send(text: string): Promise<boolean>;
  /** Whether Stop has an answer to act on: one streaming, or one asked for whose request has not replied. */
  canStop(): boolean;
  stop(): Promise<void>;
  regenerate(): Promise<void>;
  editAndResend(messageId: string, text: string): Promise<void>;
  applyTokenBatch(tokens: TokenEvent[]): void;
  applyDoneEvent(done: EventOf<"generation.done">): void;
  /** Ends the streaming answer locally (engine restart, lost connection, stuck stop). */
  interruptGeneration(reason: "stopped" | "interrupted" | "error", error?: string): void;
}

/** The model library and its import jobs. */
export interface ModelsSlice {
  models: ModelSummary[];
  modelsLoaded: boolean;
  jobs: ImportJob[];
  localImports: LocalImport[];
  selectingModelId: string | null;
  /** The quantization new imports ask for; null: the engine's default (int8 under 1B parameters, else int4). */
  importQuant: Quant | null;
  /** Jobs whose files this window still holds, so they can be imported again. */
  reimportable: string[];
  /** Running imports being started again at another quantization (job id -> the new one). */
  switchingJobs: Record<string, Quant>;

  setImportQuant(quant: Quant | null): void;
  /** Imports a job's files again although the library already holds them (after already_imported). */
  importAgain(jobId: string): Promise<void>;
  refreshModels(): Promise<void>;
  refreshJobs(): Promise<void>;
  selectModel(id: string | null): Promise<void>;
  /** Loads a model and opens the chat once it is loaded (a failure is a toast, and the view stays). */
  useModelInChat(id: string): Promise<void>;
  renameModel(id: string, name: string): Promise<void>;
  deleteModel(id: string): Promise<void>;
  calibrateModel(id: string): Promise<void>;
  importGroups(groups: DropGroup[], options?: { again?: boolean }): Promise<void>;
  importWithDialog(folder: boolean): Promise<void>;
  cancelImport(jobId: string): Promise<void>;
  /** Stops a running import and starts it again at `quant`; the new job's card takes the old one's place. */
  restartImport(jobId: string, quant: Quant): Promise<void>;
  dismissJob(jobId: string): void;
  dismissLocalImport(key: string): void;
}

/** The engine (info, status), the settings and the speed knob. */
export interface EngineSlice {
  engineInfo: EngineInfo | null;
  engineInfoError: string | null;
  engineStatus: EngineStatus | null;
  settings: Settings | null;
  /** Engine notices (provider fallback, slow kernels) the user closed; each stays closed. */
  dismissedNotices: string[];

  refreshEngine(): Promise<void>;
  loadSettings(): Promise<void>;
  updateSettings(patch: Partial<Settings>): Promise<void>;
  setKnob(value: number): Promise<void>;
  chooseModelsDir(): Promise<void>;
  dismissNotice(notice: string): void;
}

/** Start-up and shut-down: subscriptions to the back end's events. */
export interface LifecycleSlice {
  init(): Promise<void>;
  dispose(): void;
}

export type AppState = UiSlice &
  ConversationsSlice &
  GenerationSlice &
  ModelsSlice &
  EngineSlice &
  LifecycleSlice;

export type AppStore = StoreApi<AppState>;
