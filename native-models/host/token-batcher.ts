// Streamed tokens leave the engine host in batches: one message as soon as a token follows a
// quiet spell (the first token, any slow model: no added latency), and otherwise at most one
// message every `intervalMs`. A small model decodes thousands of tokens a second; a message per
// token costs both processes CPU time that a 2-core machine takes from the kernels (kjv16 here:
// ~0.88x of the in-process speed with one message per token). 16 ms is one display frame: the
// page draws at most once a frame anyway, and each message wakes the back end and the browser,
// whose threads then land on the engine's core (kjv16 in Chromium on 2 cores: the engine's
// thread waited ~40% of its decode time runnable, preempted by them; 4 -> 16 ms moved the shown
// speed from 0.54-0.61x to 0.59-0.84x of bench's over five runs, with one WebSocket message per tick).
import type { TokenFields } from "../../wire/generation.js";

export const TOKEN_BATCH_MS = 16;

export class TokenBatcher {
  private pending: TokenFields[] = [];
  private lastSent = -Infinity;

  constructor(
    private readonly send: (tokens: TokenFields[]) => void,
    private readonly intervalMs = TOKEN_BATCH_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(token: TokenFields): void {
    this.pending.push(token);
    if (this.now() - this.lastSent >= this.intervalMs) this.flush();
  }

  /** Sends what is waiting (at the end of an answer, before its reply). */
  flush(): void {
    if (this.pending.length === 0) return;
    const tokens = this.pending;
    this.pending = [];
    this.lastSent = this.now();
    this.send(tokens);
  }
}
