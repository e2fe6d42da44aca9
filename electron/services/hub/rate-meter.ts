// Download speed over the last few seconds (not since the start, so a stall shows) and the time
// left at that speed. Shared by the app's download jobs and the CLI's progress line.
const WINDOW_MS = 3000;

export class RateMeter {
  private readonly samples: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records the byte count now; returns bytes per second over the window (0 until there are two samples). */
  add(bytes: number): number {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1]!.at > WINDOW_MS) this.samples.shift();
    return this.rate();
  }

  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 200) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.at - first.at));
  }

  /** Seconds left for `remaining` bytes at the current rate; null while there is no rate. */
  eta(remaining: number): number | null {
    const rate = this.rate();
    return rate > 0 ? Math.ceil(remaining / rate) : null;
  }
}
