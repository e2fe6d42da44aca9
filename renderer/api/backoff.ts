/**
 * Reconnect delay for attempt n (0-based): exponential from `base` ms, capped at `max`, with up to
 * 20% jitter so several windows do not reconnect in lock step.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  base = 250,
  max = 5000,
): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt, 20)));
  return Math.round(exp * (0.8 + 0.2 * random()));
}
