import type { ExitTelemetry, Message } from "../../electron/contract";

/**
 * A message as the renderer holds it: the contract's Message plus what only the live stream knows.
 * `tokenMs[i]` is the time the engine spent on token i (ms field of generation.token); it is not
 * persisted, so answers loaded from the database have an empty array; so does `tokenExits[i]`,
 * what the early-exit machinery did for token i (null at full depth).
 */
export interface UiMessage extends Message {
  tokenMs: number[];
  tokenExits: (ExitTelemetry | null)[];
  /** The answering model's layer count (ceiling of the exit-layer chart); 0 when unknown. */
  layers: number;
  streaming: boolean;
  /** Set when the answer ended with an error: what happened and what to do, in plain words. */
  error?: string;
  /** The engine's own words for that error (shown on request, beneath the sentence). */
  errorDetail?: string;
}

export function toUiMessage(message: Message): UiMessage {
  return {
    ...message,
    tokenMs: [],
    tokenExits: [],
    layers: message.stats?.layers ?? 0,
    streaming: false,
  };
}
