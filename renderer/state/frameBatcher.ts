// Collects high-rate events (tokens) and hands them over once per animation frame, so the store, the
// message list and the charts update at most once a frame however fast tokens arrive. When the
// window is hidden (no animation frames), a timer takes over so nothing piles up.

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
