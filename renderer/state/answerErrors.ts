// What the chat says when an answer fails: a plain sentence with what to do, picked by the error's
// code (wire/errors.ts), and the engine's own words kept as the detail beneath it. Engines report
// some failures only in words (code "failed"); those few are recognised by their wording.
import type { ErrorCode } from "../../wire/errors";

export interface AnswerError {
  /** What happened and what to do, in plain words. */
  text: string;
  /** The engine's own message, when there is one and it says more than `text`. */
  detail?: string;
}

const BY_CODE: Partial<Record<ErrorCode, string>> = {
  context_full:
    "This conversation no longer fits in the model's memory (its context window). Start a new chat, shorten the system prompt or your last message, or let this chat leave out its oldest messages (Chat settings → When the chat no longer fits the context).",
  engine_crashed:
    "The engine stopped unexpectedly while answering and has been restarted. The conversation is kept; press Regenerate to try again.",
  engine_stopped: "The engine was shut down before the answer was finished. Press Regenerate to try again.",
  engine_error:
    "The engine did not respond. Wait a moment and press Regenerate; if it keeps happening, restart Exitlane.",
  not_found:
    "The model for this chat is no longer in the library. Pick another model in the model menu above.",
  conflict: "Another answer was still being written. Wait for it to finish, then press Regenerate.",
  cancelled: "The answer was cancelled before it started. Press Regenerate to try again.",
};

/** Failures engines report only in words, recognised by their wording. */
const BY_WORDING: [RegExp, string][] = [
  [
    /out of memory|bad_alloc|failed to allocate|cannot allocate/i,
    "Your computer ran out of memory for this answer. Close other programs, or choose a smaller model or a shorter context in Settings.",
  ],
  [/does not fit the \d+-token context|do not leave room for an answer/i, BY_CODE.context_full!],
  [
    /is not loaded/i,
    "The model was unloaded before the answer started. Pick it again in the model menu, then press Regenerate.",
  ],
  [/another answer is still being generated/i, BY_CODE.conflict!],
];

const FALLBACK =
  "The engine could not finish this answer. Press Regenerate to try again; if it happens again, try another model or set the speed knob to exact.";

/** The plain sentence for a failed answer, with the engine's words as its detail. */
export function describeAnswerError(code: ErrorCode | undefined, raw: string | undefined): AnswerError {
  const byCode = code ? BY_CODE[code] : undefined;
  const byWording = raw ? BY_WORDING.find(([pattern]) => pattern.test(raw))?.[1] : undefined;
  const text = byCode ?? byWording ?? FALLBACK;
  const detail = raw?.trim();
  return detail && detail !== text ? { text, detail } : { text };
}
