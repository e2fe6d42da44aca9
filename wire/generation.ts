// A generated answer on the wire: its sampling settings (with the bounds every side enforces),
// each token as it streams, and the stats at the end. The engine host sends these; the app's
// back end adds which conversation and message a token belongs to and passes them on unchanged.
import { z } from "zod";

export const Sampling = z.object({
  temperature: z.number().min(0).max(5),
  topP: z.number().min(0).max(1),
  topK: z.number().int().min(0).max(1000),
  minP: z.number().min(0).max(1),
  repetitionPenalty: z.number().min(0.5).max(2),
  maxTokens: z.number().int().min(1).max(32768),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
});
export type Sampling = z.infer<typeof Sampling>;

/**
 * Why an answer ended: an end-of-generation token, a stop string, the token budget, the user's
 * Stop, a full context, an error, or (app side) an engine that died mid-answer.
 */
export const StopReason = z.enum([
  "eos",
  "stop_string",
  "max_tokens",
  "stopped",
  "context_full",
  "error",
  "interrupted",
]);
export type StopReason = z.infer<typeof StopReason>;

/** What the early-exit machinery did for one token (absent at full depth). */
export const ExitTelemetry = z.object({
  /** Layers whose exit check ran for this token (1-based), in order. */
  checkedLayers: z.array(z.number().int()),
  /** Time in the exit checks (exit heads and the shortlist head), in ms. */
  predictorMs: z.number(),
  /** Time verifying a guess, in ms. */
  verifyMs: z.number(),
  /** Time drafting candidates, in ms. */
  draftMs: z.number(),
});
export type ExitTelemetry = z.infer<typeof ExitTelemetry>;

/** One streamed token. The model's layer count travels once, with the model (ModelSummary.layers). */
export const TokenFields = z.object({
  index: z.number().int().min(0),
  tokenId: z.number().int(),
  /** Text this token adds (may be empty while a split character or a possible stop string is held back). */
  text: z.string(),
  /** Decoder layers run to produce this token, 1..layers (layers = full depth, no early exit). */
  exitLayer: z.number().int(),
  /** Engine time spent on this token; the first token's includes the prompt's prefill. */
  ms: z.number(),
  exit: ExitTelemetry.optional(),
});
export type TokenFields = z.infer<typeof TokenFields>;

/**
 * What happens when a conversation outgrows the context window: drop the oldest turns (the system
 * prompt and the newest message stay) or stop with an error.
 */
export const ContextOverflow = z.enum(["drop-oldest", "stop"]);
export type ContextOverflow = z.infer<typeof ContextOverflow>;

export const GenerationStats = z.object({
  tokens: z.number().int(),
  /** Decode speed (tokens after the first, per second). */
  tokensPerSecond: z.number(),
  timeToFirstTokenMs: z.number(),
  meanExitLayer: z.number(),
  layers: z.number().int(),
  stopReason: StopReason,
  /** Tokens of the prompt as the engine fed it (template included); absent from older engines. */
  promptTokens: z.number().int().min(0).optional(),
  /** Earlier messages left out so the conversation fits the context (overflow "drop-oldest"). */
  droppedMessages: z.number().int().optional(),
  /** A base model's text: its oldest tokens left out to fit. */
  droppedTokens: z.number().int().optional(),
  /**
   * The end of the answer's last token that no token event carried: text held back while it
   * might still have become a stop string (or an incomplete character). Only in the reply and
   * generation.done; the stored message has it in its text.
   */
  tail: z.string().max(4096).optional(),
});
export type GenerationStats = z.infer<typeof GenerationStats>;
