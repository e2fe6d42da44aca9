// One error vocabulary for every boundary: the engine host's replies, the app's reply envelopes
// (IPC and WebSocket alike) and the errors the renderer's API rejects with. An error keeps its code
// and detail from where it happens to where it is shown, so no side reads meaning out of a message.
// This folder imports nothing but zod: the engine, the back end and the renderer all use it.
import { z } from "zod";

/** What a model file's reader found wrong (native-models/formats throws these as ModelFormatError). */
export const ModelFormatErrorCode = z.enum([
  "not_found",
  "unknown_format",
  "bad_magic",
  "unsupported_version",
  "truncated",
  "bad_metadata",
  "bad_tensor",
  "out_of_bounds",
  "too_large",
  "unsupported_type",
  "unsupported_architecture",
  "missing_tensor",
  "bad_config",
  "bad_tokenizer",
]);
export type ModelFormatErrorCode = z.infer<typeof ModelFormatErrorCode>;

/** The code of an error reply, from the engine host or the app's back end. */
export const ErrorCode = z.enum([
  "bad_request",
  "unknown_channel",
  "not_found",
  "conflict",
  "cancelled",
  "not_implemented",
  /** The file is not a model the engine can read; detail.formatCode says why. */
  "model_format",
  "failed",
  "engine_error",
  /** The engine process died (or keeps dying) while the request was pending. */
  "engine_crashed",
  /** The app stopped the engine (it is quitting) while the request was pending. */
  "engine_stopped",
  /** The conversation (or its last message alone) does not fit the model's context window. */
  "context_full",
  /** The file is already in the library (same source, same quantization); detail.modelId names it. */
  "already_imported",
  /** A model download failed; detail.downloadCode says why. */
  "download",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Why a download from the model hub failed. */
export const DownloadErrorCode = z.enum([
  /** 404: no such repository or file. */
  "not_found",
  /** 401: the repository needs an access token (or the token given is wrong). */
  "unauthorized",
  /** 403: a gated model whose terms the token's account has not accepted. */
  "gated",
  /** The bytes received do not have the SHA-256 the hub published. */
  "hash_mismatch",
  /** Not enough free disk space for the file (checked before it starts). */
  "disk_full",
  /** The server ignored a Range request, so an interrupted download cannot resume. */
  "range_ignored",
  /** The connection failed or dropped and could not be resumed. */
  "network",
  /** The hub answered something other than its documented API. */
  "bad_reply",
  /** The file is not a model the engine supports (format, architecture or quantization). */
  "unsupported",
]);
export type DownloadErrorCode = z.infer<typeof DownloadErrorCode>;

export const ErrorDetail = z.object({
  formatCode: ModelFormatErrorCode.optional(),
  downloadCode: DownloadErrorCode.optional(),
  /** The HTTP status the hub answered, where one is the reason. */
  httpStatus: z.number().int().optional(),
  file: z.string().optional(),
  /** The model an error is about (already_imported: the copy in the library). */
  modelId: z.string().optional(),
});
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/** An error as it crosses a boundary: a code to act on, a message to show, and what it concerns. */
export const WireError = z.object({ code: ErrorCode, message: z.string(), detail: ErrorDetail.optional() });
export type WireError = z.infer<typeof WireError>;

/** Codes a client gives a request that got no reply at all. */
export const ConnectionErrorCode = z.enum(["disconnected", "unreachable", "invalid_reply", "upload_failed"]);
export type ConnectionErrorCode = z.infer<typeof ConnectionErrorCode>;

export const ApiErrorCode = z.enum([...ErrorCode.options, ...ConnectionErrorCode.options]);
export type ApiErrorCode = z.infer<typeof ApiErrorCode>;

/** An ApiError as plain data (for boundaries that copy data but not an Error's own fields). */
const ApiErrorData = WireError.extend({ code: ApiErrorCode, channel: z.string().optional() });
type ApiErrorData = z.infer<typeof ApiErrorData>;

/** What every request of the renderer's API rejects with, whatever carried it (IPC or WebSocket). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly detail?: ErrorDetail;
  /** The request channel that failed, when there was one. */
  readonly channel?: string;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    options: { detail?: ErrorDetail; channel?: string } = {},
  ) {
    super(message);
    if (options.detail) this.detail = options.detail;
    if (options.channel) this.channel = options.channel;
  }

  static fromWire(error: WireError, channel?: string): ApiError {
    return new ApiError(error.code, error.message, { detail: error.detail, channel });
  }

  toData(): ApiErrorData {
    return { code: this.code, message: this.message, detail: this.detail, channel: this.channel };
  }

  /** The ApiError that `toData` made `value` from; null when it is anything else. */
  static fromData(value: unknown): ApiError | null {
    const data = ApiErrorData.safeParse(value);
    return data.success ? new ApiError(data.data.code, data.data.message, data.data) : null;
  }
}

/**
 * Electron's context bridge copies an Error's message and nothing else, so a rejection crosses it
 * as data: the preload sends its ApiErrors through `rejectWithData`, the page gets them back as
 * ApiErrors through `rejectWithApiError`. Other rejections pass unchanged.
 */
export function rejectWithData<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw error instanceof ApiError ? error.toData() : error;
  });
}

export function rejectWithApiError<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw ApiError.fromData(error) ?? error;
  });
}
