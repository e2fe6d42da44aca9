import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useActions, useApp } from "../state/context";
import { shortcutLabel } from "../state/shortcuts";
import { useKeyHost } from "../state/useKeyHost";
import { NARROW_WINDOW, useMediaQuery } from "../state/useMediaQuery";
import { Composer } from "./Composer";
import { ConversationSettings } from "./ConversationSettings";
import { Icon } from "./Icon";
import { KnobSlider } from "./KnobSlider";
import { LiveCharts } from "./LiveCharts";
import { MessageList } from "./MessageList";
import { ModelPicker } from "./ModelPicker";

type PanelTab = "charts" | "conversation";
const tabs: { id: PanelTab; label: string }[] = [
  { id: "charts", label: "Live charts" },
  { id: "conversation", label: "Chat settings" },
];

export function ChatView() {
  const conversation = useApp((s) => s.conversation);
  const activeId = useApp((s) => s.activeId);
  const count = useApp((s) => s.messages.length);
  const loading = useApp((s) => s.loadingConversation);
  const actions = useActions();
  const host = useKeyHost();
  // In a narrow window the side panel opens over the chat, so it starts closed there, closes
  // when the window gets narrow, and Esc closes it.
  const narrow = useMediaQuery(NARROW_WINDOW);
  const [panel, setPanel] = useState<PanelTab | null>(() => (narrow ? null : "charts"));
  useEffect(() => {
    if (narrow) setPanel(null);
  }, [narrow]);
  useEffect(() => {
    if (!narrow || !panel) return;
    const onKey = (e: globalThis.KeyboardEvent) => e.key === "Escape" && setPanel(null);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [narrow, panel]);
  const { chatBody, composerBox } = useComposerHeight();

  const togglePanel = (tab: PanelTab) => setPanel((p) => (p === tab ? null : tab));
  // Arrow keys move between the tabs (WAI-ARIA tabs pattern).
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    const i = tabs.findIndex((t) => t.id === panel);
    const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    setPanel(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };

  return (
    <div className="chat-view">
      <header className="chat-header">
        <h1 className="chat-title" title={conversation?.title}>
          {conversation?.title ?? "Exitlane"}
        </h1>
        <ModelPicker />
        <KnobSlider />
        <div className="header-actions">
          <button
            type="button"
            className="icon-btn"
            aria-label="Export chat as Markdown"
            title="Export as Markdown"
            disabled={!activeId || count === 0}
            onClick={() => activeId && void actions.exportConversation(activeId)}
          >
            <Icon name="download" />
          </button>
          <button
            type="button"
            className={panel === "conversation" ? "icon-btn on" : "icon-btn"}
            aria-label="Chat settings: system prompt and sampling"
            aria-pressed={panel === "conversation"}
            aria-controls="side-panel"
            title="System prompt and sampling"
            onClick={() => togglePanel("conversation")}
          >
            <Icon name="sliders" />
          </button>
          <button
            type="button"
            className={panel === "charts" ? "icon-btn on" : "icon-btn"}
            aria-label="Live exit-layer charts"
            aria-pressed={panel === "charts"}
            aria-controls="side-panel"
            title="Live charts"
            onClick={() => togglePanel("charts")}
          >
            <Icon name="chart" />
          </button>
        </div>
      </header>
      <div className="chat-body" ref={chatBody}>
        <div className="chat-main">
          {activeId && count > 0 ? (
            <MessageList />
          ) : (
            <div className="chat-empty">
              {loading ? (
                <p className="muted">Loading…</p>
              ) : (
                <>
                  <h2>{activeId ? "Start the conversation" : "A private chat that runs on this computer"}</h2>
                  <p className="muted">
                    Every token can leave the model early once it is sure enough. The strip under each answer
                    and the charts on the right show how deep each token went.
                  </p>
                  <p className="muted small">
                    <kbd>{shortcutLabel("newChat", host)}</kbd> new chat ·{" "}
                    <kbd>{shortcutLabel("search", host)}</kbd> search ·{" "}
                    <kbd>{shortcutLabel("shortcuts", host)}</kbd> all shortcuts
                  </p>
                </>
              )}
            </div>
          )}
          <div ref={composerBox}>
            <Composer />
          </div>
        </div>
        {panel && (
          <aside
            id="side-panel"
            className="side-panel"
            aria-label={panel === "charts" ? "Live charts" : "Chat settings"}
          >
            <div className="panel-tabs" role="tablist" aria-label="Side panel" onKeyDown={onTabKey}>
              {tabs.map((t) => (
                <button
                  key={t.id}
                  id={`tab-${t.id}`}
                  type="button"
                  role="tab"
                  aria-selected={panel === t.id}
                  aria-controls="side-panel-body"
                  tabIndex={panel === t.id ? 0 : -1}
                  className="tab"
                  onClick={() => setPanel(t.id)}
                >
                  {t.label}
                </button>
              ))}
              <button
                type="button"
                className="icon-btn panel-close"
                aria-label="Close the side panel"
                onClick={() => setPanel(null)}
              >
                <Icon name="close" size={14} />
              </button>
            </div>
            <div id="side-panel-body" className="panel-body" role="tabpanel" aria-labelledby={`tab-${panel}`}>
              {panel === "charts" ? <LiveCharts /> : <ConversationSettings />}
            </div>
          </aside>
        )}
      </div>
    </div>
  );
}

/** Keeps `--composer-height` on the chat body current, so an overlaid side panel ends above the message box. */
function useComposerHeight() {
  const chatBody = useRef<HTMLDivElement>(null);
  const composerBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = composerBox.current;
    if (!box || !chatBody.current) return;
    const update = () => chatBody.current?.style.setProperty("--composer-height", `${box.offsetHeight}px`);
    update();
    const observer = new ResizeObserver(update);
    observer.observe(box);
    return () => observer.disconnect();
  }, []);
  return { chatBody, composerBox };
}
