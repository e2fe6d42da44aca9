import { describe, expect, it } from "vitest";
import { composerKeyAction, isMacPlatform, matchShortcut, shortcutLabel, shortcutList } from "./shortcuts";

const desktop = { mac: false, browser: false };
const desktopMac = { mac: true, browser: false };
const browser = { mac: false, browser: true };

const key = (
  k: string,
  mods: Partial<{
    ctrlKey: boolean;
    metaKey: boolean;
    shiftKey: boolean;
    altKey: boolean;
    isComposing: boolean;
    typing: boolean;
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
    expect(matchShortcut(key("n", { ctrlKey: true }), desktop)).toBe("newChat");
    expect(matchShortcut(key("N", { ctrlKey: true }), desktop)).toBe("newChat");
    expect(matchShortcut(key("k", { ctrlKey: true }), desktop)).toBe("search");
    expect(matchShortcut(key(",", { ctrlKey: true }), desktop)).toBe("settings");
    expect(matchShortcut(key("n", { metaKey: true }), desktopMac)).toBe("newChat");
    expect(matchShortcut(key("Escape"), desktop)).toBe("stop");
  });
  it("ignores other combinations", () => {
    expect(matchShortcut(key("n"), desktop)).toBeNull();
    expect(matchShortcut(key("n", { metaKey: true }), desktop)).toBeNull();
    expect(matchShortcut(key("n", { ctrlKey: true }), desktopMac)).toBeNull();
    expect(matchShortcut(key("n", { ctrlKey: true, shiftKey: true }), desktop)).toBeNull();
    expect(matchShortcut(key("Escape", { shiftKey: true }), desktop)).toBeNull();
    expect(matchShortcut(key("k", { ctrlKey: true, isComposing: true }), desktop)).toBeNull();
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
    expect(shortcutLabel("newChat", desktopMac)).toBe("⌘N");
    expect(shortcutLabel("settings", desktop)).toBe("Ctrl+,");
  });
  it("in a browser tab, where Ctrl+N is the browser's, new chat is Alt+N and says so", () => {
    expect(matchShortcut(key("n", { altKey: true }), browser)).toBe("newChat");
    expect(matchShortcut(key("n", { ctrlKey: true }), browser)).toBeNull();
    expect(matchShortcut(key("n", { altKey: true }), desktop)).toBeNull();
    expect(shortcutLabel("newChat", browser)).toBe("Alt+N");
    expect(shortcutList(browser).find((r) => r.does === "New chat")?.keys).toBe("Alt+N");
    expect(shortcutList(desktop).find((r) => r.does === "New chat")?.keys).toBe("Ctrl+N");
  });
  it("? and Ctrl/Cmd+/ open the shortcuts list, but ? typed into a text field is text", () => {
    expect(matchShortcut(key("?", { shiftKey: true }), desktop)).toBe("shortcuts");
    expect(matchShortcut(key("?", { shiftKey: true, typing: true }), desktop)).toBeNull();
    expect(matchShortcut(key("/", { ctrlKey: true }), desktop)).toBe("shortcuts");
    expect(matchShortcut(key("/", { metaKey: true }), desktopMac)).toBe("shortcuts");
  });
  it("the list names every global shortcut once", () => {
    const rows = shortcutList(browser);
    for (const does of ["New chat", "Search chats", "Settings", "Show these shortcuts", "Send the message"])
      expect(rows.filter((r) => r.does === does)).toHaveLength(1);
    expect(rows.find((r) => r.does === "Show these shortcuts")?.keys).toBe("? or Ctrl+/");
  });
});
