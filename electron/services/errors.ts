// The one error type back-end services throw for expected failures. The dispatcher turns it into
// a `{ ok: false, error: { code, message, detail } }` envelope; the message is shown to the user as is.
import type { ErrorCode, ErrorDetail } from "../../wire/errors.js";

export class ChannelError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: ErrorDetail,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

export const notFound = (what: string, id: string) =>
  new ChannelError("not_found", `No ${what} with id "${id}".`);

/** For channels whose engine side is not built yet: clear, and distinct from a crash. */
export const notAvailableYet = (feature: string) =>
  new ChannelError(
    "not_implemented",
    `${feature} is not available yet: this engine version does not support it.`,
  );
