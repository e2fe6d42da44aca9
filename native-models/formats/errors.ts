// Every reader failure is a ModelFormatError: a specific, user-readable message naming the file,
// and a stable code (the wire's list, so it reaches the app unchanged) that callers and tests can match on.
import type { ModelFormatErrorCode } from "../../wire/errors.js";

export type { ModelFormatErrorCode };

export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
  constructor(
    readonly code: ModelFormatErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(file ? `${message} (${file})` : message);
  }
}
