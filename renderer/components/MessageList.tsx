import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useActions, useApp } from "../state/context";
import { MessageItem } from "./MessageItem";

/** Pixels from the bottom within which the list keeps following a streaming answer. */
const STICK_PX = 96;

/**
 * The conversation, virtualised: only the messages in (and just around) the viewport are in the
 * DOM, whatever the length of the conversation; row heights are measured as they render. The list
 * follows the answer as it streams while the user is at the bottom, and leaves them alone when
 * they scroll up to read.
 */
export function MessageList() {
  const messages = useApp((s) => s.messages);
  const busy = useApp((s) => s.generation !== null);
  const charted = useApp((s) => s.chartMessageId);
  const models = useApp((s) => s.models);
  const actions = useActions();
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [showJump, setShowJump] = useState(false);

  // The React Compiler is not used here; the virtualizer is read fresh on every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 160,
    overscan: 4,
    getItemKey: (i) => messages[i]?.id ?? i,
  });

  let lastAnswerIndex = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === "assistant") {
      lastAnswerIndex = i;
      break;
    }
  }

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (bottom === atBottom.current) return;
    atBottom.current = bottom;
    setShowJump(!bottom);
  }, []);

  const scrollToEnd = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (messages.length) virtualizer.scrollToIndex(messages.length - 1, { align: "end" });
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setShowJump(false);
  }, [messages.length, virtualizer]);

  // New conversation opened: start at the end.
  const firstId = messages[0]?.id;
  useLayoutEffect(() => {
    atBottom.current = true;
    scrollToEnd();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [firstId]);

  // Content changed (a message or a frame of tokens): follow it if the user is at the bottom.
  useEffect(() => {
    if (!atBottom.current) return;
    const el = scrollRef.current;
    if (!el) return;
    const raf = requestAnimationFrame(() => {
      el.scrollTop = el.scrollHeight;
    });
    return () => cancelAnimationFrame(raf);
  }, [messages]);

  const modelName = (id: string | null) => (id ? (models.find((m) => m.id === id)?.name ?? null) : null);
  const items = virtualizer.getVirtualItems();

  return (
    <div className="message-pane">
      <div
        className="message-scroller"
        ref={scrollRef}
        onScroll={onScroll}
        data-testid="message-scroller"
        tabIndex={-1}
      >
        <div
          className="message-canvas"
          role="log"
          aria-label="Messages"
          aria-live="off"
          data-count={messages.length}
          style={{ height: virtualizer.getTotalSize() }}
        >
          <div className="message-window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
            {items.map((row) => {
              const m = messages[row.index];
              if (!m) return null;
              return (
                <div
                  key={row.key}
                  data-index={row.index}
                  ref={virtualizer.measureElement}
                  className="message-row"
                >
                  <MessageItem
                    message={m}
                    modelName={modelName(m.modelId)}
                    isLastAnswer={row.index === lastAnswerIndex}
                    busy={busy}
                    charted={charted === m.id}
                    onRegenerate={actions.regenerate}
                    onEdit={actions.editAndResend}
                    onShowInCharts={actions.showInCharts}
                    onShowVersion={actions.showVersion}
                  />
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {showJump && (
        <button type="button" className="btn jump-to-end" onClick={scrollToEnd}>
          Jump to latest ↓
        </button>
      )}
    </div>
  );
}
