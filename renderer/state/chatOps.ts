// Pure list operations for the chat store: where a sent message and its answer go, what an edit or a
// regenerate removes, and the conversation list's local updates.
import type { ConversationSummary, Message } from "../../electron/contract";
import { createStreamingMessage } from "./streamProcessor";
import { toUiMessage, type UiMessage } from "./types";

export const LOCAL_PREFIX = "local-";

/** An optimistic user message shown while chat.send is on its way. */
export function localUserMessage(
  conversationId: string,
  text: string,
  n: number,
  now = new Date(),
): UiMessage {
  return {
    ...toUiMessage({
      id: `${LOCAL_PREFIX}${n}`,
      conversationId,
      role: "user",
      content: text,
      createdAt: now.toISOString(),
      exitLayers: [],
      tokenTexts: [],
      stats: null,
      modelId: null,
    }),
  };
}

/**
 * Puts the confirmed user message and its answer at the end of the list: replaces the optimistic
 * copy, keeps an answer that already started streaming (tokens can arrive before the reply), and
 * guarantees the order user -> assistant.
 */
export function placeExchange(
  messages: readonly UiMessage[],
  userMessage: Message,
  assistantMessageId: string,
  localId: string | null,
  modelId: string | null,
): UiMessage[] {
  const existingAnswer = messages.find((m) => m.id === assistantMessageId);
  const rest = messages.filter(
    (m) => m.id !== localId && m.id !== userMessage.id && m.id !== assistantMessageId,
  );
  const answer =
    existingAnswer ?? createStreamingMessage(userMessage.conversationId, assistantMessageId, modelId);
  return [...rest, toUiMessage(userMessage), answer];
}

/**
 * Regenerate: the last assistant answer makes way for a new, empty streaming one, which lists the
 * one before among its versions (as the back end keeps it; an empty answer is not kept).
 */
export function replaceLastAnswer(
  messages: readonly UiMessage[],
  conversationId: string,
  assistantMessageId: string,
  modelId: string | null,
): UiMessage[] {
  const existing = messages.find((m) => m.id === assistantMessageId);
  let cut = messages.length;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].id === assistantMessageId) continue;
    if (messages[i].role === "assistant") cut = i;
    break;
  }
  const before = cut < messages.length ? messages[cut] : null;
  const kept = messages.slice(0, cut).filter((m) => m.id !== assistantMessageId);
  const answer = existing ?? createStreamingMessage(conversationId, assistantMessageId, modelId);
  const earlier = before
    ? (before.versions ?? [before.id]).filter((id) => id !== before.id || before.content)
    : [];
  const versions = [...earlier.filter((id) => id !== assistantMessageId), assistantMessageId];
  return [...kept, versions.length > 1 ? { ...answer, versions } : answer];
}

/** Edit-and-resend: everything from the edited message on is dropped and replaced by the new pair. */
export function replaceFromMessage(
  messages: readonly UiMessage[],
  editedId: string,
  userMessage: Message,
  assistantMessageId: string,
  modelId: string | null,
): UiMessage[] {
  const i = messages.findIndex((m) => m.id === editedId);
  const existing = messages.find((m) => m.id === assistantMessageId);
  const kept = (i === -1 ? messages : messages.slice(0, i)).filter(
    (m) => m.id !== assistantMessageId && m.id !== userMessage.id,
  );
  return [
    ...kept,
    toUiMessage(userMessage),
    existing ?? createStreamingMessage(userMessage.conversationId, assistantMessageId, modelId),
  ];
}

/** The last assistant message (the one Regenerate replaces), or null. */
export function lastAnswer(messages: readonly UiMessage[]): UiMessage | null {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === "assistant") return messages[i];
  return null;
}

/**
 * Moves a conversation to the top of the list with a fresh preview (after a message). An empty
 * text (an answer that failed before its first token) keeps the preview it had.
 */
export function touchConversation(
  list: readonly ConversationSummary[],
  id: string,
  preview: string,
  now = new Date(),
): ConversationSummary[] {
  const i = list.findIndex((c) => c.id === id);
  if (i === -1) return list as ConversationSummary[];
  const updated = {
    ...list[i],
    preview: preview.slice(0, 200) || list[i].preview,
    updatedAt: now.toISOString(),
  };
  return [updated, ...list.slice(0, i), ...list.slice(i + 1)];
}

/** Case-insensitive local filter on title and preview (the back end also searches message text). */
export function filterConversations(
  list: readonly ConversationSummary[],
  query: string,
): ConversationSummary[] {
  const q = query.trim().toLowerCase();
  if (!q) return list as ConversationSummary[];
  return list.filter((c) => c.title.toLowerCase().includes(q) || c.preview.toLowerCase().includes(q));
}
