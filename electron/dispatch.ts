// The single entry point for every request, from IPC and WebSocket alike: check the channel,
// validate the payload against the contract, run the handler, and wrap the outcome in an envelope.
// Validation happens before any handler runs, so a malformed message changes nothing.
import { z } from "zod";
import {
  isChannel,
  requests,
  type Channel,
  type ReplyEnvelope,
  type ReplyOf,
  type RequestOf,
} from "./contract.js";
import { ChannelError } from "./services/errors.js";

export type Handlers = { [C in Channel]: (payload: RequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C> };

export interface DispatcherOptions {
  /** Check replies against the contract too (dev and tests): a handler bug becomes an `internal` error. */
  validateReplies?: boolean;
  /** Channels this transport refuses, with the reason shown to the caller. */
  refuse?: Partial<Record<Channel, string>>;
  /** Where unexpected handler failures are reported (never to the caller in full). */
  onInternalError?: (channel: Channel, error: unknown) => void;
}

export type Dispatch = (channel: unknown, payload: unknown) => Promise<ReplyEnvelope>;

export function createDispatcher(handlers: Handlers, options: DispatcherOptions = {}): Dispatch {
  const { validateReplies = true, refuse = {}, onInternalError = defaultReport } = options;

  return async function dispatch(channel, payload) {
    if (!isChannel(channel)) {
      return failure("unknown_channel", `Unknown channel ${JSON.stringify(channel)}.`);
    }
    const refusal = refuse[channel];
    if (refusal) return failure("bad_request", refusal);

    const parsed = requests[channel].request.safeParse(payload);
    if (!parsed.success) {
      return failure("bad_request", `Invalid request for ${channel}: ${z.prettifyError(parsed.error)}`);
    }
    try {
      const handler = handlers[channel] as (p: unknown) => unknown;
      const result = await handler(parsed.data);
      if (validateReplies) {
        const checked = requests[channel].reply.safeParse(result);
        if (!checked.success) {
          onInternalError(
            channel,
            new Error(`Reply does not match the contract: ${z.prettifyError(checked.error)}`),
          );
          return failure("internal", `The app produced an invalid reply for ${channel}.`);
        }
      }
      return { ok: true, result };
    } catch (error) {
      if (error instanceof ChannelError) return failure(error.code, error.message, error.detail);
      onInternalError(channel, error);
      const detail = error instanceof Error ? error.message : String(error);
      return failure("internal", `${channel} failed unexpectedly: ${detail}`);
    }
  };
}

function failure(
  code: ChannelError["code"],
  message: string,
  detail?: ChannelError["detail"],
): ReplyEnvelope {
  return { ok: false, error: detail ? { code, message, detail } : { code, message } };
}

function defaultReport(channel: Channel, error: unknown): void {
  console.error(`[dispatch] ${channel}:`, error);
}
