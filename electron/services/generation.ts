// One chat turn: store the user's message, ask the engine host to generate, store and forward each
// streamed token, and close the answer with its statistics. Every check runs before anything is
// written, so a refused send changes nothing. When the engine dies mid-answer, the tokens already
// shown stay in the conversation and the answer is closed as "interrupted".
import {
  engineSampling,
  type Conversation,
  type GenerationStats,
  type JsonAnswer,
  type Message,
  type ModelSummary,
} from "../contract.js";
import type { TokenFields } from "../../wire/generation.js";
import type { OutputConstraint } from "../../wire/structured.js";
import type { ConversationStore } from "./conversations.js";
import type { EngineClient } from "./engine-client.js";
import type { EngineTurns } from "./engine-turns.js";
import { ChannelError } from "./errors.js";
import type { EventBus } from "./event-bus.js";
import type { ModelLibrary } from "./models.js";
import type { SettingsStore } from "./settings.js";

interface Target {
  modelId: string;
  layers: number;
  mode: ModelSummary["mode"];
  contextLength: number;
}

interface Running {
  conversationId: string;
  messageId: string;
  startedAt: number;
  firstTokenAt: number | null;
  tokens: number;
  exitLayerSum: number;
  layers: number;
}

export interface GenerationDeps {
  engine: EngineClient;
  store: ConversationStore;
  settings: SettingsStore;
  models: ModelLibrary;
  events: EventBus;
  /** Shared with the local server: answers are written one at a time, in order of arrival. */
  turns: EngineTurns;
}

export class GenerationService {
  /** Keyed by genId, which is the assistant message's id. */
  private readonly running = new Map<string, Running>();
  /** Answers still waiting for the engine's turn (the local server's answer comes first), by genId. */
  private readonly waiting = new Set<string>();
  /** Of those, the ones stopped before they reached the engine. */
  private readonly stoppedWhileWaiting = new Set<string>();

  constructor(private readonly deps: GenerationDeps) {
    deps.engine.onEvent((event) => {
      if (event.event === "tokens") for (const token of event.tokens) this.onToken(event.genId, token);
    });
  }

  async send(
    conversationId: string,
    text: string,
  ): Promise<{ userMessage: Message; assistantMessageId: string; conversation: Conversation }> {
    const target = await this.preflight(conversationId);
    const userMessage = this.deps.store.addMessage(conversationId, "user", text);
    const assistantMessageId = this.begin(conversationId, target);
    return { userMessage, assistantMessageId, conversation: this.deps.store.conversation(conversationId) };
  }

  async regenerate(conversationId: string): Promise<{ assistantMessageId: string }> {
    const target = await this.preflight(conversationId);
    const history = this.deps.store.get(conversationId).messages;
    const lastUser = history.findLastIndex((m) => m.role === "user");
    if (lastUser < 0) throw new ChannelError("conflict", "There is no message to answer again.");
    // The answer before stays as a version of the new one (Message.versions).
    const versionOf = this.deps.store.setAsideLastAnswer(conversationId);
    return { assistantMessageId: this.begin(conversationId, target, versionOf) };
  }

  async edit(conversationId: string, messageId: string, text: string) {
    const target = await this.preflight(conversationId);
    const userMessage = this.deps.store.editUserMessage(conversationId, messageId, text);
    return { userMessage, assistantMessageId: this.begin(conversationId, target) };
  }

  async stop(conversationId: string): Promise<{ stopped: boolean }> {
    const genId = [...this.running].find(([, r]) => r.conversationId === conversationId)?.[0];
    if (!genId) return { stopped: false };
    if (this.waiting.has(genId)) {
      this.stoppedWhileWaiting.add(genId);
      return { stopped: true };
    }
    await this.deps.engine.require("stop");
    return this.deps.engine.request("stop", { genId });
  }

  /** Stops every answer of the app's chats, waiting or being written (another model is wanted). */
  async stopAll(): Promise<void> {
    const chats = new Set([...this.running.values()].map((r) => r.conversationId));
    await Promise.all([...chats].map((id) => this.stop(id)));
  }

  /** Answers being written right now (at most one). */
  get runningCount(): number {
    return this.running.size;
  }

  isGenerating(conversationId: string): boolean {
    return [...this.running.values()].some((r) => r.conversationId === conversationId);
  }

  /** Everything that could refuse the request, checked before any write. Returns the model to use. */
  private async preflight(conversationId: string): Promise<Target> {
    this.deps.store.conversation(conversationId);
    await this.deps.engine.require("generate");
    const modelId = this.deps.settings.get().activeModelId;
    if (!modelId) throw new ChannelError("conflict", "No model is selected. Pick one in the model library.");
    // Loading replaces the engine's model, so a load waits for the answer being written (the local
    // server's, say); a model already loaded needs no turn.
    const { layers, mode, contextLength } =
      this.deps.engine.status().loadedModelId === modelId
        ? await this.deps.models.ensureLoaded(modelId)
        : await this.deps.turns.run(() => this.deps.models.ensureLoaded(modelId));
    // Checked last, after the final await: the caller writes right after this returns.
    this.deps.store.conversation(conversationId);
    if (this.isGenerating(conversationId)) {
      throw new ChannelError(
        "conflict",
        "An answer is still being written in this conversation; stop it first.",
      );
    }
    // The engine writes one answer at a time; asking it for a second one would only store the
    // user's message and an answer that fails at once.
    if (this.running.size > 0) {
      throw new ChannelError(
        "conflict",
        "An answer is still being written in another conversation; wait for it or stop it first.",
      );
    }
    return { modelId, layers, mode, contextLength };
  }

  private begin(
    conversationId: string,
    { modelId, layers, mode, contextLength }: Target,
    versionOf: string | null = null,
  ): string {
    const { store, settings, engine } = this.deps;
    const conversation = store.conversation(conversationId);
    const messages = store.history(conversationId).filter((m) => m.role !== "system");
    const assistant = store.startAssistant(conversationId, modelId, versionOf);
    const run: Running = {
      conversationId,
      messageId: assistant.id,
      startedAt: Date.now(),
      firstTokenAt: null,
      tokens: 0,
      exitLayerSum: 0,
      layers,
    };
    this.running.set(assistant.id, run);
    this.inTurn(assistant.id, modelId, () =>
      engine.request("generate", {
        genId: assistant.id,
        modelId,
        ...promptFor(mode, conversation.systemPrompt, messages),
        sampling: engineSampling(conversation.sampling, contextLength),
        overflow: conversation.overflow,
        knob: settings.get().knob,
        ...(conversation.jsonAnswer ? { constraint: constraintOf(conversation.jsonAnswer) } : {}),
      }),
    ).then(
      (stats) => this.finish(run, stats),
      (error: Error) => this.finish(run, this.localStats(run, error), error),
    );
    return assistant.id;
  }

  /**
   * Generates in the engine's next free turn, with the model loaded again if the turn before
   * changed it. Stopped while waiting, it ends as "stopped" without reaching the engine.
   */
  private async inTurn(
    genId: string,
    modelId: string,
    generate: () => Promise<GenerationStats>,
  ): Promise<GenerationStats> {
    this.waiting.add(genId);
    try {
      return await this.deps.turns.run(async () => {
        const { layers } = await this.deps.models.ensureLoaded(modelId);
        this.waiting.delete(genId);
        if (!this.stoppedWhileWaiting.has(genId)) return generate();
        const none = { tokens: 0, tokensPerSecond: 0, timeToFirstTokenMs: 0, meanExitLayer: 0 };
        return { ...none, layers, stopReason: "stopped" as const };
      });
    } finally {
      this.waiting.delete(genId);
      this.stoppedWhileWaiting.delete(genId);
    }
  }

  private onToken(genId: string, token: TokenFields): void {
    const run = this.running.get(genId);
    if (!run) return;
    run.firstTokenAt ??= Date.now();
    run.tokens += 1;
    run.exitLayerSum += token.exitLayer;
    this.deps.store.appendToken(run.messageId, {
      index: token.index,
      text: token.text,
      exitLayer: token.exitLayer,
    });
    this.deps.events.emit("generation.token", {
      ...token,
      conversationId: run.conversationId,
      messageId: run.messageId,
    });
  }

  /** Statistics from what arrived, for answers the engine could not finish. */
  private localStats(run: Running, error: Error): GenerationStats {
    const seconds = (Date.now() - run.startedAt) / 1000;
    // The engine died, or the app stopped it, mid-answer: the answer was cut off, not wrong.
    const crashed =
      error instanceof ChannelError && (error.code === "engine_crashed" || error.code === "engine_stopped");
    return {
      tokens: run.tokens,
      tokensPerSecond: seconds > 0 ? run.tokens / seconds : 0,
      timeToFirstTokenMs: run.firstTokenAt ? run.firstTokenAt - run.startedAt : 0,
      meanExitLayer: run.tokens ? run.exitLayerSum / run.tokens : 0,
      layers: run.layers,
      stopReason: crashed ? "interrupted" : "error",
    };
  }

  private finish(run: Running, stats: GenerationStats, error?: Error): void {
    this.running.delete(run.messageId);
    const message = this.deps.store.finishAssistant(run.messageId, stats);
    if (!message) return; // The conversation was deleted meanwhile.
    this.deps.events.emit("generation.done", {
      conversationId: run.conversationId,
      messageId: run.messageId,
      stats,
      ...(error ? { error: error.message } : {}),
      ...(error instanceof ChannelError ? { errorCode: error.code } : {}),
    });
  }
}

/**
 * What the engine is asked to continue. A chat model gets the turns (through its chat template);
 * a base model has no turns to speak of: the conversation is one text, the user's parts and the
 * model's continuations in order, which it continues as is (no invented "User:" labels; the
 * system prompt, an instruction for chat models, is not part of that text).
 */
export function promptFor(
  mode: ModelSummary["mode"],
  systemPrompt: string,
  messages: ReadonlyArray<Pick<Message, "role" | "content">>,
): { messages: Array<Pick<Message, "role" | "content">> } | { prompt: string } {
  if (mode === "completion") return { prompt: messages.map((m) => m.content).join("") };
  const system = systemPrompt.trim() ? [{ role: "system" as const, content: systemPrompt }] : [];
  return { messages: [...system, ...messages.map((m) => ({ role: m.role, content: m.content }))] };
}

/** "Answer as JSON" as the engine's constraint. */
function constraintOf(answer: JsonAnswer): OutputConstraint {
  return answer.schema ? { type: "json_schema", schema: answer.schema } : { type: "json_object" };
}
