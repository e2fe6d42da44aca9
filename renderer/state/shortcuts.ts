// Global keyboard shortcuts, as a pure mapping from a key event to an action.

export type ShortcutAction = "newChat" | "search" | "settings" | "stop";

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  isComposing?: boolean;
}

/** On macOS the command key is the modifier; elsewhere Ctrl. */
export function isMacPlatform(platform: string): boolean {
  return /mac|iphone|ipad/i.test(platform);
}

export function matchShortcut(e: KeyLike, mac: boolean): ShortcutAction | null {
  if (e.isComposing) return null;
  const mod = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (e.key === "Escape" && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) return "stop";
  if (!mod || e.altKey || e.shiftKey) return null;
  switch (e.key.toLowerCase()) {
    case "n":
      return "newChat";
    case "k":
      return "search";
    case ",":
      return "settings";
    default:
      return null;
  }
}

/** Composer: Enter sends, Shift+Enter inserts a newline; nothing happens while an IME composes. */
export function composerKeyAction(e: KeyLike): "send" | "newline" | null {
  if (e.key !== "Enter" || e.isComposing) return null;
  if (e.shiftKey) return "newline";
  if (e.ctrlKey || e.metaKey || e.altKey) return "send";
  return "send";
}

export function shortcutLabel(action: ShortcutAction, mac: boolean): string {
  const mod = mac ? "⌘" : "Ctrl+";
  switch (action) {
    case "newChat":
      return `${mod}N`;
    case "search":
      return `${mod}K`;
    case "settings":
      return `${mod},`;
    case "stop":
      return "Esc";
  }
}
