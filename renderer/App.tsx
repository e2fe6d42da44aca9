import { useCallback, useEffect, useLayoutEffect, useState } from "react";
import { Banners } from "./components/Banners";
import { ChatView } from "./components/ChatView";
import { DropOverlay } from "./components/DropOverlay";
import { ModelsView } from "./components/ModelsView";
import { SettingsView } from "./components/SettingsView";
import { ShortcutsPanel } from "./components/ShortcutsPanel";
import { Sidebar } from "./components/Sidebar";
import { Toasts } from "./components/Toasts";
import { useActions, useApi, useApp, useAppStore } from "./state/context";
import { matchShortcut, type KeyHost } from "./state/shortcuts";
import { useKeyHost } from "./state/useKeyHost";
import { applyTheme, rememberTheme } from "./state/theme";

export function App() {
  const view = useApp((s) => s.view);
  const host = useKeyHost();
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  const toggleShortcuts = useCallback(() => setShortcutsOpen((open) => !open), []);
  useShortcuts(host, toggleShortcuts);
  useTheme();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Sidebar />
      <main id="main" className="main" tabIndex={-1}>
        <Banners />
        {view === "chat" && <ChatView />}
        {view === "models" && <ModelsView />}
        {view === "settings" && <SettingsView />}
      </main>
      <DropOverlay />
      <Toasts />
      {shortcutsOpen && <ShortcutsPanel host={host} onClose={() => setShortcutsOpen(false)} />}
      <LiveAnnouncer />
    </div>
  );
}

/** The keys of `shortcutList` (new chat, search, settings, stop, this list) and the desktop menu's commands. */
function useShortcuts(host: KeyHost, toggleShortcuts: () => void) {
  const actions = useActions();
  const store = useAppStore();
  const api = useApi();
  // A layout effect: the shortcuts work from the first paint on.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = matchShortcut({ ...keyFields(e), typing: isTextField(e.target) }, host);
      if (!action) return;
      switch (action) {
        case "newChat":
          e.preventDefault();
          void actions.newConversation();
          break;
        case "search":
          e.preventDefault();
          actions.setView("chat");
          actions.requestSearchFocus();
          break;
        case "settings":
          e.preventDefault();
          actions.setView("settings");
          break;
        case "stop":
          if (store.getState().canStop()) {
            e.preventDefault();
            void actions.stop();
          }
          break;
        case "shortcuts":
          e.preventDefault();
          toggleShortcuts();
          break;
      }
    };
    window.addEventListener("keydown", onKey);
    // The desktop app's menu items arrive as app.command events and do the same.
    const offCommand = api.on("app.command", ({ command }) => {
      switch (command) {
        case "newChat":
          void actions.newConversation();
          break;
        case "search":
          actions.setView("chat");
          actions.requestSearchFocus();
          break;
        case "settings":
          actions.setView("settings");
          break;
        case "import":
          actions.setView("models");
          if (store.getState().nativeImportDialog) void actions.importWithDialog(false);
          break;
        case "stop":
          void actions.stop();
          break;
      }
    });
    return () => {
      window.removeEventListener("keydown", onKey);
      offCommand();
    };
  }, [actions, store, api, host, toggleShortcuts]);
}

function keyFields(e: KeyboardEvent) {
  const { key, ctrlKey, metaKey, shiftKey, altKey, isComposing } = e;
  return { key, ctrlKey, metaKey, shiftKey, altKey, isComposing };
}

function isTextField(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

function useTheme() {
  const theme = useApp((s) => s.settings?.theme);
  useEffect(() => {
    if (!theme) return;
    rememberTheme(safeLocalStorage(), theme);
    return applyTheme(theme);
  }, [theme]);
}

/** Announces finished answers to screen readers (the message list itself is not live, so streaming stays quiet). */
function LiveAnnouncer() {
  const text = useApp((s) => {
    const g = s.generation;
    if (g) return "";
    for (let i = s.messages.length - 1; i >= 0; i--) {
      const m = s.messages[i];
      if (m.role === "assistant") return m.stats ? `Answer finished: ${m.stats.tokens} tokens.` : "";
    }
    return "";
  });
  return (
    <div className="visually-hidden" role="status" aria-live="polite">
      {text}
    </div>
  );
}

function safeLocalStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}
