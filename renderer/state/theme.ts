// Light / dark / system theme: CSS variables keyed on <html data-theme>, pure resolution.
export type ThemeSetting = "light" | "dark" | "system";

export function resolveTheme(setting: ThemeSetting, prefersDark: boolean): "light" | "dark" {
  return setting === "system" ? (prefersDark ? "dark" : "light") : setting;
}

const STORAGE_KEY = "exitlane.theme";

/** Last theme, remembered locally so the first paint does not flash the wrong colours. */
export function rememberedTheme(storage: Pick<Storage, "getItem"> | undefined): ThemeSetting {
  const v = storage?.getItem(STORAGE_KEY);
  return v === "light" || v === "dark" || v === "system" ? v : "system";
}

export function rememberTheme(storage: Pick<Storage, "setItem"> | undefined, setting: ThemeSetting): void {
  try {
    storage?.setItem(STORAGE_KEY, setting);
  } catch {
    // storage full or disabled: the theme still applies for this session
  }
}

let stopFollowing: (() => void) | null = null;

/**
 * Sets data-theme on the root element and keeps "system" in step with the OS. Replaces whatever an
 * earlier call set up. Returns a disposer.
 */
export function applyTheme(
  setting: ThemeSetting,
  root: HTMLElement = document.documentElement,
  win: Window = window,
): () => void {
  stopFollowing?.();
  stopFollowing = null;
  const query = win.matchMedia?.("(prefers-color-scheme: dark)");
  const set = () => {
    const resolved = resolveTheme(setting, query?.matches ?? false);
    root.dataset.theme = resolved;
    root.style.colorScheme = resolved;
  };
  set();
  if (setting !== "system" || !query) return () => {};
  query.addEventListener("change", set);
  const stop = () => query.removeEventListener("change", set);
  stopFollowing = stop;
  return () => {
    stop();
    if (stopFollowing === stop) stopFollowing = null;
  };
}
