import { memo, useEffect, useRef, useState } from "react";
import { copyText } from "../state/download";
import { describeContextTrim, describeStopReason, formatMs, formatRate } from "../state/format";
import { answerStats } from "../state/answerStats";
import { composerKeyAction } from "../state/shortcuts";
import type { UiMessage } from "../state/types";
import { LOCAL_PREFIX } from "../state/chatOps";
import { Icon } from "./Icon";
import { LayerStrip, TokenView } from "./LayerStrip";
import { Markdown } from "./Markdown";
import { JsonAnswerView, jsonShape } from "./JsonAnswerView";

export interface MessageItemProps {
  message: UiMessage;
  modelName: string | null;
  /** The last assistant answer (Regenerate applies to it). */
  isLastAnswer: boolean;
  /** An answer is being generated somewhere: edit and regenerate wait. */
  busy: boolean;
  charted: boolean;
  onRegenerate(): void;
  onEdit(messageId: string, text: string): void;
  onShowInCharts(messageId: string): void;
  /** Shows another version of a regenerated answer. */
  onShowVersion(messageId: string): void;
}

export const MessageItem = memo(function MessageItem(props: MessageItemProps) {
  const { message } = props;
  if (message.role === "system") return null;
  return message.role === "user" ? <UserMessage {...props} /> : <AssistantMessage {...props} />;
});

function UserMessage({ message, busy, onEdit }: MessageItemProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const ref = useRef<HTMLTextAreaElement>(null);
  const pending = message.id.startsWith(LOCAL_PREFIX);

  useEffect(() => {
    if (editing) {
      ref.current?.focus();
      ref.current?.setSelectionRange(ref.current.value.length, ref.current.value.length);
    }
  }, [editing]);

  const submit = () => {
    if (!draft.trim()) return;
    setEditing(false);
    if (draft !== message.content) onEdit(message.id, draft);
  };

  return (
    <article className="message user" aria-label="Your message" data-message-id={message.id} data-role="user">
      <div className="message-head">
        <span className="message-author">You</span>
        {pending && <span className="muted small">sending…</span>}
      </div>
      {editing ? (
        <div className="edit-box">
          <textarea
            ref={ref}
            aria-label="Edit your message"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.stopPropagation();
                setEditing(false);
                setDraft(message.content);
                return;
              }
              if (composerKeyAction(e.nativeEvent) === "send") {
                e.preventDefault();
                submit();
              }
            }}
          />
          <div className="edit-actions">
            <button
              type="button"
              className="btn"
              onClick={() => (setEditing(false), setDraft(message.content))}
            >
              Cancel
            </button>
            <button type="button" className="btn btn-primary" onClick={submit} disabled={!draft.trim()}>
              Save &amp; resend
            </button>
          </div>
        </div>
      ) : (
        <div className="message-body plain">{message.content}</div>
      )}
      {!editing && (
        <div className="message-actions">
          <CopyButton text={message.content} />
          <button
            type="button"
            className="icon-btn"
            aria-label="Edit and resend"
            title={busy ? "Wait for the answer to finish" : "Edit and resend"}
            disabled={busy || pending}
            onClick={() => {
              setDraft(message.content);
              setEditing(true);
            }}
          >
            <Icon name="edit" size={14} />
          </button>
        </div>
      )}
    </article>
  );
}

function AssistantMessage({
  message,
  modelName,
  isLastAnswer,
  busy,
  charted,
  onRegenerate,
  onShowInCharts,
  onShowVersion,
}: MessageItemProps) {
  const [tokens, setTokens] = useState(false);
  const stats = answerStats(message);
  const empty = message.content.length === 0;
  // Only once it is complete: a JSON answer half written is not yet JSON.
  const shape = message.streaming ? null : jsonShape(message.content);
  const stopNote = message.stats ? describeStopReason(message.stats.stopReason) : "";
  const trimNote = message.stats ? describeContextTrim(message.stats) : "";

  return (
    <article
      className={message.streaming ? "message assistant streaming" : "message assistant"}
      aria-label="Answer"
      aria-busy={message.streaming}
      data-message-id={message.id}
      data-role="assistant"
      data-streaming={message.streaming ? "true" : "false"}
    >
      <div className="message-head">
        <span className="message-author">{modelName ?? "Assistant"}</span>
        {message.streaming && <span className="typing" aria-label="Answering" />}
      </div>
      {trimNote && (
        <p className="context-trim muted small" data-testid="context-trim">
          {trimNote}
        </p>
      )}
      <div className="message-body">
        {empty && message.streaming ? (
          <p className="muted">Thinking…</p>
        ) : tokens ? (
          <TokenView
            exitLayers={message.exitLayers}
            tokenTexts={message.tokenTexts}
            tokenExits={message.tokenExits}
            layers={stats.layers}
          />
        ) : shape ? (
          <JsonAnswerView shape={shape} />
        ) : (
          <Markdown text={message.content} />
        )}
      </div>
      {message.error && (
        <div className="message-error" role="alert" data-testid="answer-error">
          <p>{message.error}</p>
          {message.errorDetail && (
            <details className="error-detail">
              <summary>What the engine said</summary>
              <code>{message.errorDetail}</code>
            </details>
          )}
        </div>
      )}
      <LayerStrip
        exitLayers={message.exitLayers}
        tokenTexts={message.tokenTexts}
        layers={stats.layers}
        meanExitLayer={stats.meanExitLayer}
      />
      <div className="message-foot">
        <dl className="stats" data-testid="answer-stats">
          <div>
            <dt>Tokens</dt>
            <dd data-testid="stat-tokens">{stats.tokens}</dd>
          </div>
          <div>
            <dt>Speed</dt>
            <dd data-testid="stat-rate">{formatRate(stats.tokensPerSecond)}</dd>
          </div>
          <div>
            <dt>First token</dt>
            <dd data-testid="stat-ttft">{stats.tokens ? formatMs(stats.timeToFirstTokenMs) : "—"}</dd>
          </div>
          <div>
            <dt>Mean exit layer</dt>
            <dd data-testid="stat-mean-exit">
              {stats.tokens ? stats.meanExitLayer.toFixed(1) : "—"}
              {stats.layers ? ` / ${stats.layers}` : ""}
            </dd>
          </div>
          {stopNote && (
            <div>
              <dt className="visually-hidden">Ended</dt>
              <dd className="stop-note">{stopNote}</dd>
            </div>
          )}
        </dl>
        <div className="message-actions">
          {message.versions && (
            <VersionSwitch
              versions={message.versions}
              current={message.id}
              busy={busy}
              onShow={onShowVersion}
            />
          )}
          <CopyButton text={message.content} />
          {message.tokenTexts.length > 0 && (
            <button
              type="button"
              className={tokens ? "icon-btn on" : "icon-btn"}
              aria-pressed={tokens}
              aria-label="Show tokens coloured by exit layer"
              title="Show tokens (hover one for its exit layer)"
              onClick={() => setTokens((t) => !t)}
            >
              <Icon name="tokens" size={14} />
            </button>
          )}
          {message.exitLayers.length > 0 && (
            <button
              type="button"
              className={charted ? "icon-btn on" : "icon-btn"}
              aria-pressed={charted}
              aria-label="Show this answer in the charts"
              title="Show in charts"
              onClick={() => onShowInCharts(message.id)}
            >
              <Icon name="chart" size={14} />
            </button>
          )}
          {isLastAnswer && (
            <button
              type="button"
              className="icon-btn"
              aria-label="Regenerate answer"
              title={busy ? "Wait for the answer to finish" : "Regenerate"}
              disabled={busy}
              onClick={onRegenerate}
            >
              <Icon name="refresh" size={14} />
            </button>
          )}
        </div>
      </div>
    </article>
  );
}

/** "‹ 2/3 ›": the versions Regenerate made of this answer, oldest first. */
function VersionSwitch({
  versions,
  current,
  busy,
  onShow,
}: {
  versions: string[];
  current: string;
  busy: boolean;
  onShow(messageId: string): void;
}) {
  const i = versions.indexOf(current);
  const wait = busy ? "Wait for the answer to finish" : undefined;
  return (
    <span className="version-switch" role="group" aria-label="Answer versions">
      <button
        type="button"
        className="icon-btn"
        aria-label="Previous version"
        title={wait ?? "Previous version"}
        disabled={busy || i <= 0}
        onClick={() => onShow(versions[i - 1])}
      >
        ‹
      </button>
      <span className="version-count small" data-testid="answer-version">
        {i + 1}/{versions.length}
      </span>
      <button
        type="button"
        className="icon-btn"
        aria-label="Next version"
        title={wait ?? "Next version"}
        disabled={busy || i >= versions.length - 1}
        onClick={() => onShow(versions[i + 1])}
      >
        ›
      </button>
    </span>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <button
      type="button"
      className="icon-btn"
      aria-label={copied ? "Copied" : "Copy message"}
      title={copied ? "Copied" : "Copy"}
      disabled={!text}
      onClick={async () => setCopied(await copyText(text))}
    >
      <Icon name={copied ? "check" : "copy"} size={14} />
    </button>
  );
}
