// Collects high-rate events (tokens) and hands them over once per animation frame, so the store, the
// message list and the charts update at most once a frame however fast tokens arrive. When the
// window is hidden (no animation frames), a timer takes over so nothing piles up.
// Streamed tokens use `throttledFrameScheduler`: at most one update per STREAM_UPDATE_MS. A small
// model writes thousands of tokens a second, and a render of the answer and its charts every
// frame made the page use several times the engine's CPU time (kjv16 on a 2-core machine:
// Chromium ~1 s of CPU per 192-token answer against the engine's ~0.1 s), which it took from the
// engine; ten updates a second still read as streaming, and a token after a pause shows at once.

export type Scheduler = (run: () => void) => () => void;

export const frameScheduler: Scheduler = (run) => {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(raf);
    clearTimeout(timer);
    run();
  };
  const raf = requestAnimationFrame(once);
  const timer = setTimeout(once, 100);
  return () => {
    done = true;
    cancelAnimationFrame(raf);
    clearTimeout(timer);
  };
};

export const STREAM_UPDATE_MS = 100;

/** The next frame, but no sooner than `minIntervalMs` after the previous run. */
export function throttledFrameScheduler(
  minIntervalMs = STREAM_UPDATE_MS,
  frame: Scheduler = frameScheduler,
  now: () => number = () => performance.now(),
): Scheduler {
  let lastRun = -Infinity;
  return (run) => {
    const wait = lastRun + minIntervalMs - now();
    let cancelFrame: (() => void) | null = null;
    const start = () => {
      cancelFrame = frame(() => {
        lastRun = now();
        run();
      });
    };
    if (wait <= 0) {
      start();
      return () => cancelFrame?.();
    }
    const timer = setTimeout(start, wait);
    return () => {
      clearTimeout(timer);
      cancelFrame?.();
    };
  };
}

export interface FrameBatcher<T> {
  push(item: T): void;
  /** Hands over everything queued now (before a done event, so order is kept). */
  flush(): void;
  dispose(): void;
  readonly size: number;
}

export function createFrameBatcher<T>(
  deliver: (items: T[]) => void,
  schedule: Scheduler = frameScheduler,
): FrameBatcher<T> {
  let queue: T[] = [];
  let cancel: (() => void) | null = null;
  const flush = () => {
    cancel?.();
    cancel = null;
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    deliver(items);
  };
  return {
    push(item) {
      queue.push(item);
      if (!cancel) cancel = schedule(flush);
    },
    flush,
    dispose() {
      cancel?.();
      cancel = null;
      queue = [];
    },
    get size() {
      return queue.length;
    },
  };
}
