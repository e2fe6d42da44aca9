// Errors in the shape OpenAI's API answers with, `{ error: { message, type, code, param } }`, with
// the HTTP status that goes with each; back-end errors (ChannelError codes) map onto them here.
import { ChannelError } from "../errors.js";

export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "OpenAiError";
  }

  toBody() {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new OpenAiError(400, "invalid_request_error", code, message, param);

/** The engine is restarting or gone: the client may try again shortly. */
export const engineUnavailable = (message: string) =>
  new OpenAiError(503, "server_error", "engine_unavailable", message);

export function toOpenAiError(error: unknown): OpenAiError {
  if (error instanceof OpenAiError) return error;
  if (error instanceof ChannelError) {
    switch (error.code) {
      case "bad_request":
        return invalidRequest(error.message);
      case "not_found":
        return new OpenAiError(404, "invalid_request_error", "model_not_found", error.message, "model");
      case "engine_crashed":
      case "engine_stopped":
        return engineUnavailable(error.message);
      // OpenAI's own code for a prompt longer than the model's context.
      case "context_full":
        return invalidRequest(error.message, "messages", "context_length_exceeded");
      case "not_implemented":
        return new OpenAiError(501, "server_error", "not_implemented", error.message);
      default:
        return new OpenAiError(500, "server_error", error.code, error.message);
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OpenAiError(500, "server_error", "internal", message);
}
