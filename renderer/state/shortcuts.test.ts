import { describe, expect, it } from "vitest";
import { composerKeyAction, isMacPlatform, matchShortcut, shortcutLabel } from "./shortcuts";

const key = (
  k: string,
  mods: Partial<{
    ctrlKey: boolean;
    metaKey: boolean;
    shiftKey: boolean;
    altKey: boolean;
    isComposing: boolean;
  }> = {},
) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe("shortcuts", () => {
  it("maps Ctrl (Cmd on macOS) + N / K / , and Esc", () => {
    expect(matchShortcut(key("n", { ctrlKey: true }), false)).toBe("newChat");
    expect(matchShortcut(key("N", { ctrlKey: true }), false)).toBe("newChat");
    expect(matchShortcut(key("k", { ctrlKey: true }), false)).toBe("search");
    expect(matchShortcut(key(",", { ctrlKey: true }), false)).toBe("settings");
    expect(matchShortcut(key("n", { metaKey: true }), true)).toBe("newChat");
    expect(matchShortcut(key("Escape"), false)).toBe("stop");
  });
  it("ignores other combinations", () => {
    expect(matchShortcut(key("n"), false)).toBeNull();
    expect(matchShortcut(key("n", { metaKey: true }), false)).toBeNull();
    expect(matchShortcut(key("n", { ctrlKey: true }), true)).toBeNull();
    expect(matchShortcut(key("n", { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(matchShortcut(key("Escape", { shiftKey: true }), false)).toBeNull();
    expect(matchShortcut(key("k", { ctrlKey: true, isComposing: true }), false)).toBeNull();
  });
  it("composer: Enter sends, Shift+Enter is a newline, IME composition is left alone", () => {
    expect(composerKeyAction(key("Enter"))).toBe("send");
    expect(composerKeyAction(key("Enter", { shiftKey: true }))).toBe("newline");
    expect(composerKeyAction(key("Enter", { isComposing: true }))).toBeNull();
    expect(composerKeyAction(key("a"))).toBeNull();
  });
  it("labels per platform", () => {
    expect(isMacPlatform("MacIntel")).toBe(true);
    expect(isMacPlatform("Linux x86_64")).toBe(false);
    expect(shortcutLabel("newChat", true)).toBe("⌘N");
    expect(shortcutLabel("settings", false)).toBe("Ctrl+,");
  });
});
