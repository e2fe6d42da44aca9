// The engine writes one answer at a time. Everything that generates (the app's chats and the local
// OpenAI-compatible server) takes its turn here, first come first served, so a request that
// arrives while another answer is being written waits for it instead of failing. A turn still
// waiting can be withdrawn (its client went away); the one running ends when its work settles.
import { ChannelError } from "./errors.js";

interface Waiting {
  start(): void;
  withdraw(): void;
}

export class EngineTurns {
  private readonly waiting: Waiting[] = [];
  private running = false;

  /** Turns running or waiting. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /**
   * Runs `work` once every earlier turn has ended. When `signal` aborts before the turn starts,
   * the turn is dropped (rejects with "cancelled") and `work` never runs.
   */
  run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => entry.withdraw();
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.running = true;
          work()
            .then(resolve, reject)
            .finally(() => {
              this.running = false;
              this.next();
            });
        },
        withdraw: () => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(cancelled());
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    this.waiting.shift()?.start();
  }
}

function cancelled(): ChannelError {
  return new ChannelError("cancelled", "The request was withdrawn before its turn.");
}
