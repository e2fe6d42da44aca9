// Streamed-token handling as pure functions (the renderer's equivalent of chatbox's
// stream-chunk-processor): every generation.token event appends its text, exit layer and timing to
// the assistant message it belongs to; generation.done seals the message with the engine's stats.
// Nothing here touches React, zustand or the API, so it is tested in isolation.
import type { EventOf, GenerationStats } from "../../electron/contract";
import { describeAnswerError } from "./answerErrors";
import type { UiMessage } from "./types";

export type TokenEvent = EventOf<"generation.token">;
export type DoneEvent = EventOf<"generation.done">;

/** A fresh, empty assistant message for an answer that is about to stream. */
export function createStreamingMessage(
  conversationId: string,
  messageId: string,
  modelId: string | null,
  now = new Date(),
): UiMessage {
  return {
    id: messageId,
    conversationId,
    role: "assistant",
    content: "",
    createdAt: now.toISOString(),
    exitLayers: [],
    tokenTexts: [],
    stats: null,
    modelId,
    tokenMs: [],
    tokenExits: [],
    layers: 0,
    streaming: true,
  };
}

/**
 * Appends one token to a message. Returns the same object when the event changes nothing
 * (a duplicate index, a token for another message), so callers can compare by reference.
 * Tokens are expected in index order; a token whose index was already applied is ignored.
 */
export function applyToken(message: UiMessage, token: TokenEvent, layers = 0): UiMessage {
  return applyTokens(message, [token], layers);
}

/**
 * Appends a batch of tokens (one animation frame's worth) with a single copy of the arrays.
 * `layers`: the answering model's layer count (tokens do not carry it), for a message that has none yet.
 */
export function applyTokens(message: UiMessage, tokens: readonly TokenEvent[], layers = 0): UiMessage {
  let next: UiMessage | null = null;
  for (const token of tokens) {
    if (token.messageId !== message.id) continue;
    const current: UiMessage = next ?? message;
    if (token.index < current.tokenTexts.length) continue; // duplicate (e.g. replay after reconnect)
    if (!next) {
      next = {
        ...message,
        exitLayers: message.exitLayers.slice(),
        tokenTexts: message.tokenTexts.slice(),
        tokenMs: message.tokenMs.slice(),
        tokenExits: message.tokenExits.slice(),
        layers: message.layers || layers,
      };
    }
    next.content += token.text;
    next.exitLayers.push(token.exitLayer);
    next.tokenTexts.push(token.text);
    next.tokenMs.push(token.ms);
    next.tokenExits.push(token.exit ?? null);
    // A token can only arrive for an answer in progress; a late token must not reopen a sealed one.
    if (next.stats === null) next.streaming = true;
  }
  return next ?? message;
}

/** Seals a message with the engine's final statistics (and error, if any, in plain words). */
export function applyDone(message: UiMessage, done: DoneEvent): UiMessage {
  if (done.messageId !== message.id) return message;
  const { tail = "", ...stats } = done.stats;
  // The engine's held-back tail ends the last token's text (as the stored message has it).
  const last = message.tokenTexts.length - 1;
  const tokenTexts =
    tail && last >= 0 ? message.tokenTexts.map((t, i) => (i === last ? t + tail : t)) : message.tokenTexts;
  const failed =
    done.error !== undefined || done.errorCode !== undefined || done.stats.stopReason === "error";
  const { text, detail } = failed
    ? describeAnswerError(done.errorCode, done.error)
    : { text: undefined, detail: undefined };
  return {
    ...message,
    content: message.content + tail,
    tokenTexts,
    streaming: false,
    stats,
    layers: done.stats.layers || message.layers,
    error: text,
    errorDetail: detail,
  };
}

/** Ends an answer locally (engine restarted, connection lost, stop that never got a reply). */
export function interruptMessage(
  message: UiMessage,
  reason: GenerationStats["stopReason"],
  error?: string,
): UiMessage {
  if (!message.streaming) return message;
  return {
    ...message,
    streaming: false,
    stats: message.stats ?? { ...liveStats(message), stopReason: reason },
    error,
  };
}

export interface LiveStats {
  tokens: number;
  tokensPerSecond: number;
  timeToFirstTokenMs: number;
  meanExitLayer: number;
  layers: number;
}

/**
 * Statistics of a message: the engine's own when the answer is finished, otherwise computed from
 * what has streamed so far. `ms` of a token is the time the engine spent on it (for the first token
 * this includes the prompt, so it is the time to first token).
 */
export function liveStats(message: UiMessage): LiveStats {
  if (message.stats) {
    const { tokens, tokensPerSecond, timeToFirstTokenMs, meanExitLayer, layers } = message.stats;
    return { tokens, tokensPerSecond, timeToFirstTokenMs, meanExitLayer, layers: layers || message.layers };
  }
  const tokens = message.exitLayers.length;
  let layerSum = 0;
  for (const layer of message.exitLayers) layerSum += layer;
  // Decode speed excludes the first token (it carries the prompt's prefill).
  let decodeMs = 0;
  for (let i = 1; i < message.tokenMs.length; i++) decodeMs += message.tokenMs[i];
  const tokensPerSecond = tokens > 1 && decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : 0;
  return {
    tokens,
    tokensPerSecond,
    timeToFirstTokenMs: message.tokenMs[0] ?? 0,
    meanExitLayer: tokens ? layerSum / tokens : 0,
    layers: message.layers,
  };
}

/** Applies a batch of token/done events to a message list, touching only the messages they name. */
export function applyStreamEvents(
  messages: readonly UiMessage[],
  conversationId: string,
  tokens: readonly TokenEvent[],
  modelId: string | null = null,
  layersOf: (modelId: string | null) => number = () => 0,
): UiMessage[] {
  const relevant = tokens.filter((t) => t.conversationId === conversationId);
  if (relevant.length === 0) return messages as UiMessage[];
  const byMessage = new Map<string, TokenEvent[]>();
  for (const t of relevant) {
    const list = byMessage.get(t.messageId);
    if (list) list.push(t);
    else byMessage.set(t.messageId, [t]);
  }
  let changed = false;
  const next = messages.map((m) => {
    const batch = byMessage.get(m.id);
    if (!batch) return m;
    byMessage.delete(m.id);
    const updated = applyTokens(m, batch, layersOf(m.modelId));
    if (updated !== m) changed = true;
    return updated;
  });
  // Tokens for an answer the list does not hold yet (the reply to chat.send has not arrived, or the
  // conversation was opened mid-answer): start the message from its first token.
  for (const [messageId, batch] of byMessage) {
    next.push(
      applyTokens(createStreamingMessage(conversationId, messageId, modelId), batch, layersOf(modelId)),
    );
    changed = true;
  }
  return changed ? next : (messages as UiMessage[]);
}
