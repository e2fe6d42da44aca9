// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { applyTheme, rememberTheme, rememberedTheme, resolveTheme } from "./theme";

function fakeWindow(dark: boolean) {
  const listeners = new Set<() => void>();
  const query = {
    matches: dark,
    addEventListener: (_: string, l: () => void) => listeners.add(l),
    removeEventListener: (_: string, l: () => void) => listeners.delete(l),
  };
  return {
    win: { matchMedia: () => query } as unknown as Window,
    setDark(v: boolean) {
      query.matches = v;
      listeners.forEach((l) => l());
    },
    listeners,
  };
}

describe("theme", () => {
  it("resolves system to the OS preference", () => {
    expect(resolveTheme("system", true)).toBe("dark");
    expect(resolveTheme("system", false)).toBe("light");
    expect(resolveTheme("light", true)).toBe("light");
  });

  it("applies data-theme and follows the OS only in system mode", () => {
    const root = document.createElement("html");
    const w = fakeWindow(false);
    const dispose = applyTheme("system", root, w.win);
    expect(root.dataset.theme).toBe("light");
    w.setDark(true);
    expect(root.dataset.theme).toBe("dark");
    // choosing a fixed theme stops following the OS
    applyTheme("light", root, w.win);
    w.setDark(false);
    w.setDark(true);
    expect(root.dataset.theme).toBe("light");
    expect(w.listeners.size).toBe(0);
    dispose();
  });

  it("remembers the choice locally", () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
    };
    expect(rememberedTheme(storage)).toBe("system");
    rememberTheme(storage, "dark");
    expect(rememberedTheme(storage)).toBe("dark");
    expect(rememberedTheme(undefined)).toBe("system");
  });
});
