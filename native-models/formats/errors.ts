// Every reader failure is a ModelFormatError: a specific, user-readable message naming the file,
// and a stable code that callers and tests can match on.

export type ModelFormatErrorCode =
  | "not_found"
  | "unknown_format"
  | "bad_magic"
  | "unsupported_version"
  | "truncated"
  | "bad_metadata"
  | "bad_tensor"
  | "out_of_bounds"
  | "too_large"
  | "unsupported_type"
  | "unsupported_architecture"
  | "missing_tensor"
  | "bad_config"
  | "bad_tokenizer";

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
