// The engine host's method table. Each method of the protocol that the engine implements has an
// entry here; a method without one answers `not_implemented`, and the app shows "not available yet".
// The engine's methods (import, load, generate, ...) come from engine-methods.ts
// and are merged in by main.ts.
import type { HostEvent, HostMethod, ParamsOf, ResultOf } from "./protocol.js";
import { getSystemInfo } from "./system-info.js";
import { measureUsage } from "./usage.js";
import type { ErrorCode, ErrorDetail } from "../../wire/errors.js";

export interface HostContext {
  /** Sends an event (token, progress, log) to the app. */
  emit(event: HostEvent): void;
}

export type MethodHandler<M extends HostMethod> = (
  params: ParamsOf<M>,
  ctx: HostContext,
) => Promise<ResultOf<M>>;
export type MethodTable = { [M in HostMethod]?: MethodHandler<M> };

/** Thrown by a method for an expected failure; its code and detail reach the app unchanged. */
export class HostMethodError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: ErrorDetail,
  ) {
    super(message);
  }
}

export const methods: MethodTable = {
  info: () => getSystemInfo(),
  usage: async () => measureUsage(),
};
