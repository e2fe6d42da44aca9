import { useEffect, useRef, useState } from "react";

/**
 * The value, updated at most every `ms` milliseconds while `throttle` is true, and at once when it
 * becomes false (the final state of a finished answer is never held back). The first update comes
 * `ms` after `throttle` turned true: an answer shorter than that is drawn once, when it is done,
 * and takes no CPU from the engine while it runs.
 */
export function useThrottledValue<T>(value: T, ms: number, throttle: boolean): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (throttle) last.current = performance.now();
  }, [throttle]);

  useEffect(() => {
    const show = () => {
      last.current = performance.now();
      setShown(value);
    };
    const wait = throttle ? last.current + ms - performance.now() : 0;
    if (wait <= 0) {
      show();
      return;
    }
    // A newer value cancels this timer and schedules its own for the same moment.
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value, ms, throttle]);

  return throttle ? shown : value;
}
