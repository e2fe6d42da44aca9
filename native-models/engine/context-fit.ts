// Keeping a conversation inside the context window. When the prompt and room for an answer no
// longer fit, the user chooses (per chat) between stopping with a clear error and dropping the
// oldest turns: the system prompt and the newest message always stay, and older messages go
// one at a time, oldest first, until the rest fits. A base model's single text loses its oldest
// tokens instead (its beginning-of-text token stays).
import type { ChatMessage } from "../tokenizer/chat-template.js";

export type { ContextOverflow as Overflow } from "../../wire/generation.js";

/** Room kept for the answer: its token budget, but never more than a quarter of the context. */
export function answerReserve(maxTokens: number, contextLength: number): number {
  return Math.max(1, Math.min(maxTokens, Math.floor(contextLength / 4)));
}

export interface FittedMessages {
  ids: number[];
  /** Messages left out, oldest first. */
  dropped: number;
}

/**
 * The newest messages whose encoding (plus the reserve) fits; null when even the system prompt
 * and the newest message alone do not.
 */
export function fitMessages(
  messages: readonly ChatMessage[],
  encode: (messages: readonly ChatMessage[]) => number[],
  budget: number,
): FittedMessages | null {
  const system = messages[0]?.role === "system" ? [messages[0]] : [];
  const turns = messages.slice(system.length);
  // Each try encodes the whole prompt (templates are not additive); conversations that overflow
  // have few enough turns that this stays cheap next to a prefill.
  for (let dropped = 0; dropped < turns.length; dropped++) {
    const kept = [...system, ...turns.slice(dropped)];
    // A chat should not start with the model's own words.
    if (kept[system.length]?.role === "assistant" && dropped < turns.length - 1) continue;
    const ids = encode(kept);
    if (ids.length <= budget) return { ids, dropped };
  }
  return null;
}

/** The newest tokens of a raw prompt that fit, keeping its first token when it is beginning-of-text. */
export function fitRaw(ids: readonly number[], budget: number, bos: number | undefined): FittedMessages {
  if (ids.length <= budget) return { ids: [...ids], dropped: 0 };
  const head = bos !== undefined && ids[0] === bos ? [bos] : [];
  const tail = ids.slice(ids.length - Math.max(1, budget - head.length));
  return { ids: [...head, ...tail], dropped: ids.length - head.length - tail.length };
}
