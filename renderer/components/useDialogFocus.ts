import { useEffect, type RefObject } from "react";

/** A modal dialog's focus: on `start` while it is open, back where it was when it closes. */
export function useDialogFocus(start: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const previous = document.activeElement;
    start.current?.focus();
    return () => {
      if (previous instanceof HTMLElement) previous.focus();
    };
  }, [start]);
}
