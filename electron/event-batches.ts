// Contract events leave the back end in batches: those emitted in the same tick (a message of
// tokens from the engine host becomes one event per token) travel together, in order, at the end
// of the tick. Every message wakes the receiving process, and on a machine with few cores those
// wake-ups take turns with the engine's threads.
import type { EventName, WireEvent } from "./contract.js";

export interface EventBatches {
  push(event: EventName, payload: unknown): void;
  /** Sends what is waiting now (before a reply, so events and replies keep their order). */
  flush(): void;
  /** Drops what is waiting (the receiver went away). */
  clear(): void;
}

export function eventBatches(send: (events: WireEvent[]) => void): EventBatches {
  let queued: WireEvent[] = [];
  const flush = () => {
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    send(batch);
  };
  return {
    push(event, payload) {
      if (queued.length === 0) setImmediate(flush);
      queued.push({ event, payload });
    },
    flush,
    clear() {
      queued = [];
    },
  };
}
