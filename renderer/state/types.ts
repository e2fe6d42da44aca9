import type { Message } from "../../electron/contract";

/**
 * A message as the renderer holds it: the contract's Message plus what only the live stream knows.
 * `tokenMs[i]` is the time the engine spent on token i (ms field of generation.token); it is not
 * persisted, so answers loaded from the database have an empty array.
 */
export interface UiMessage extends Message {
  tokenMs: number[];
  /** Model layer count reported with the tokens (ceiling of the exit-layer chart); 0 when unknown. */
  layers: number;
  streaming: boolean;
  /** Set when the answer ended with an error (plain words). */
  error?: string;
}

export function toUiMessage(message: Message): UiMessage {
  return {
    ...message,
    tokenMs: [],
    layers: message.stats?.layers ?? 0,
    streaming: false,
  };
}
