import { useSyncExternalStore } from "react";

/** Whether a CSS media query matches now, re-rendering when that changes. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const list = window.matchMedia(query);
      list.addEventListener("change", onChange);
      return () => list.removeEventListener("change", onChange);
    },
    () => window.matchMedia(query).matches,
    () => false,
  );
}

/** Narrow windows (the layout's breakpoint in app.css): the side panel opens over the chat. */
export const NARROW_WINDOW = "(max-width: 1000px)";
