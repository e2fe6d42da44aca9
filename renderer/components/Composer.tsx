import { useEffect, useRef, useState } from "react";
import { useActions, useApp } from "../state/context";
import { composerKeyAction } from "../state/shortcuts";
import { Icon } from "./Icon";

/** The message box: Enter sends, Shift+Enter adds a line; while an answer streams, Stop (Esc). */
export function Composer() {
  const actions = useActions();
  const generation = useApp((s) => s.generation);
  const hasModel = useApp((s) => Boolean(s.settings?.activeModelId ?? s.engineStatus?.loadedModelId));
  const noModels = useApp((s) => s.modelsLoaded && s.models.length === 0);
  const completion = useApp((s) => {
    const id = s.settings?.activeModelId ?? s.engineStatus?.loadedModelId;
    return s.models.find((m) => m.id === id)?.mode === "completion";
  });
  const focusTick = useApp((s) => s.composerFocusTick);
  const restore = useApp((s) => s.composerRestore);
  const activeId = useApp((s) => s.activeId);
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    ref.current?.focus();
  }, [focusTick, activeId]);
  useEffect(() => {
    if (restore) setText((current) => current || restore.text);
  }, [restore]);

  const streaming = generation !== null;
  const stopping = generation?.stopRequestedAt != null;

  const send = async () => {
    if (!text.trim() || streaming) return;
    const sent = text;
    setText("");
    const ok = await actions.send(sent);
    if (!ok) setText((current) => current || sent);
  };

  const placeholder = noModels
    ? "Import a model in Models to start chatting"
    : hasModel
      ? completion
        ? "Write the beginning of a text; the model continues it"
        : "Message Exitlane…"
      : "Choose a model above to start chatting";

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        ref={ref}
        aria-label="Message"
        placeholder={placeholder}
        value={text}
        rows={1}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          const action = composerKeyAction(e.nativeEvent);
          if (action === "send") {
            e.preventDefault();
            void send();
          }
        }}
      />
      {streaming ? (
        <button
          type="button"
          className="btn btn-stop"
          onClick={() => void actions.stop()}
          disabled={stopping}
          aria-keyshortcuts="Escape"
        >
          <Icon name="stop" />
          {stopping ? "Stopping…" : "Stop"}
          <kbd className="kbd-hint" aria-hidden="true">
            Esc
          </kbd>
        </button>
      ) : (
        <button
          type="submit"
          className="btn btn-primary"
          disabled={!text.trim() || !hasModel}
          aria-keyshortcuts="Enter"
        >
          <Icon name="send" />
          Send
        </button>
      )}
      <p className="composer-hint" aria-hidden="true">
        Enter to send · Shift+Enter for a new line
      </p>
    </form>
  );
}
