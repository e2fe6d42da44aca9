// The engine's one way to say "cancelled": every long job (import, calibration, generation) takes
// an AbortSignal and, at its next check after an abort, throws CancelledError. It sits in the lowest
// layer so every layer can throw it, and callers tell a cancel from a failure by `instanceof` alone.
export class CancelledError extends Error {
  override readonly name = "CancelledError";
  constructor() {
    super("cancelled");
  }
}

/** Throws CancelledError once `signal` is aborted; the check every cancellable loop makes. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
