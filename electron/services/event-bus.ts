// Typed fan-out of contract events (tokens, progress, engine status) to every connected transport:
// the Electron window over IPC and each WebSocket client.
import { events, type EventName, type EventOf } from "../contract.js";

export type EventListener = <E extends EventName>(event: E, payload: EventOf<E>) => void;

export interface EventBus {
  emit<E extends EventName>(event: E, payload: EventOf<E>): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
}

/** `validate`: check each payload against the contract (dev and tests), so a service bug shows up at its source. */
export function createEventBus({ validate = true } = {}): EventBus {
  const listeners = new Set<EventListener>();
  return {
    emit(event, payload) {
      if (validate) events[event].parse(payload);
      for (const listener of listeners) {
        try {
          listener(event, payload);
        } catch (error) {
          // One broken transport must not starve the others.
          console.error(`[events] listener failed for ${event}:`, error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
