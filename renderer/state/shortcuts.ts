// Global keyboard shortcuts, as a pure mapping from a key event to an action, and the one list
// of every shortcut that the shortcuts panel and the hints in the UI read from.

export type ShortcutAction = "newChat" | "search" | "settings" | "stop" | "shortcuts";

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  isComposing?: boolean;
  /** The key went to a text field (then a bare "?" is a character, not a shortcut). */
  typing?: boolean;
}

/**
 * Where the keys are pressed. macOS uses the command key as the modifier. In a browser tab,
 * Ctrl/Cmd+N opens a browser window and never reaches the page, so new chat is Alt+N there.
 */
export interface KeyHost {
  mac: boolean;
  browser: boolean;
}

/** On macOS the command key is the modifier; elsewhere Ctrl. */
export function isMacPlatform(platform: string): boolean {
  return /mac|iphone|ipad/i.test(platform);
}

export function matchShortcut(e: KeyLike, host: KeyHost): ShortcutAction | null {
  if (e.isComposing) return null;
  const mod = host.mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  const bare = !e.ctrlKey && !e.metaKey && !e.altKey;
  if (e.key === "Escape" && bare && !e.shiftKey) return "stop";
  if (e.key === "?" && bare && !e.typing) return "shortcuts";
  // Alt+N: e.key is "n", or on macOS a dead/special character, so the physical key is not known
  // from e.key alone; Alt+N is offered only where Ctrl+N cannot work (the browser build).
  if (host.browser && e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.key.toLowerCase() === "n")
    return "newChat";
  if (!mod || e.altKey || e.shiftKey) return null;
  switch (e.key.toLowerCase()) {
    case "n":
      return host.browser ? null : "newChat";
    case "k":
      return "search";
    case ",":
      return "settings";
    case "/":
      return "shortcuts";
    default:
      return null;
  }
}

/** Composer: Enter sends, Shift+Enter inserts a newline; nothing happens while an IME composes. */
export function composerKeyAction(e: KeyLike): "send" | "newline" | null {
  if (e.key !== "Enter" || e.isComposing) return null;
  if (e.shiftKey) return "newline";
  return "send";
}

export function shortcutLabel(action: ShortcutAction, host: KeyHost): string {
  const mod = host.mac ? "⌘" : "Ctrl+";
  switch (action) {
    case "newChat":
      return host.browser ? (host.mac ? "⌥N" : "Alt+N") : `${mod}N`;
    case "search":
      return `${mod}K`;
    case "settings":
      return `${mod},`;
    case "stop":
      return "Esc";
    case "shortcuts":
      return `? or ${mod}/`;
  }
}

export interface ShortcutRow {
  keys: string;
  does: string;
}

/** Every shortcut the app has, as the shortcuts panel lists them. */
export function shortcutList(host: KeyHost): ShortcutRow[] {
  const global: [ShortcutAction, string][] = [
    ["newChat", "New chat"],
    ["search", "Search chats"],
    ["settings", "Settings"],
    ["stop", "Stop the answer (or close a dialog)"],
    ["shortcuts", "Show these shortcuts"],
  ];
  return [
    ...global.map(([action, does]) => ({ keys: shortcutLabel(action, host), does })),
    { keys: "Enter", does: "Send the message" },
    { keys: "Shift+Enter", does: "New line in the message" },
    { keys: "← →", does: "Move between the side panel's tabs" },
  ];
}
