// Settings save as they are changed; this says when one was saved. The store's updateSettings
// puts the old value back (and shows a toast) when the back end refuses: a save counts only when
// the stored settings hold the new value afterwards.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Settings } from "../../electron/contract";
import { useActions, useAppStore } from "../state/context";

/** How long "Saved" stays up after a change (ms). */
export const SAVED_VISIBLE_MS = 2500;

export function useSettingsSaver(): {
  save(patch: Partial<Settings>): Promise<boolean>;
  saved: boolean;
} {
  const actions = useActions();
  const store = useAppStore();
  const [saved, setSaved] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const save = useCallback(
    async (patch: Partial<Settings>) => {
      await actions.updateSettings(patch);
      const now = store.getState().settings;
      const ok =
        !!now &&
        Object.entries(patch).every(
          ([k, v]) => JSON.stringify(now[k as keyof Settings]) === JSON.stringify(v),
        );
      if (ok) {
        setSaved(true);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setSaved(false), SAVED_VISIBLE_MS);
      }
      return ok;
    },
    [actions, store],
  );
  return { save, saved };
}
