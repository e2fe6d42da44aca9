import { Fragment, memo, useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { ConversationSummary } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { formatWhen } from "../state/format";
import { highlightParts } from "../state/highlight";
import { shortcutLabel } from "../state/shortcuts";
import { useKeyHost } from "../state/useKeyHost";
import type { View } from "../state/store";
import { ConfirmDialog } from "./ConfirmDialog";
import { EngineUsage } from "./EngineUsage";
import { Icon, type IconName } from "./Icon";

const views: { view: View; label: string; icon: IconName }[] = [
  { view: "chat", label: "Chat", icon: "chat" },
  { view: "models", label: "Models", icon: "models" },
  { view: "settings", label: "Settings", icon: "settings" },
];

export function Sidebar() {
  const view = useApp((s) => s.view);
  const actions = useActions();
  const host = useKeyHost();
  return (
    <aside className="sidebar" aria-label="Conversations and navigation">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="layers" size={18} />
        </span>
        <span className="brand-name">Exitlane</span>
      </div>
      <nav className="nav" aria-label="Views">
        {views.map((v) => (
          <button
            key={v.view}
            type="button"
            className={view === v.view ? "nav-item active" : "nav-item"}
            aria-current={view === v.view ? "page" : undefined}
            onClick={() => actions.setView(v.view)}
            title={v.view === "settings" ? `Settings (${shortcutLabel("settings", host)})` : undefined}
          >
            <Icon name={v.icon} />
            <span>{v.label}</span>
          </button>
        ))}
      </nav>
      <button
        type="button"
        className="btn btn-primary new-chat"
        onClick={() => void actions.newConversation()}
        title={`New chat (${shortcutLabel("newChat", host)})`}
      >
        <Icon name="plus" />
        New chat
        <kbd className="kbd-hint" aria-hidden="true">
          {shortcutLabel("newChat", host)}
        </kbd>
      </button>
      <SearchBox />
      <ConversationList />
      <EngineUsage />
    </aside>
  );
}

function SearchBox() {
  const query = useApp((s) => s.searchQuery);
  const focusTick = useApp((s) => s.searchFocusTick);
  const actions = useActions();
  const host = useKeyHost();
  const ref = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    if (focusTick > 0) {
      ref.current?.focus();
      ref.current?.select();
    }
  }, [focusTick]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const onChange = (value: string) => {
    actions.setSearchQuery(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void actions.refreshConversations(), 200);
  };

  return (
    <div className="search" role="search">
      <Icon name="search" className="search-icon" />
      <input
        ref={ref}
        type="search"
        aria-label="Search conversations"
        placeholder={`Search  ${shortcutLabel("search", host)}`}
        value={query}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape" && query) {
            e.stopPropagation();
            onChange("");
          }
        }}
      />
    </div>
  );
}

function ConversationList() {
  const conversations = useApp((s) => s.conversations);
  const loaded = useApp((s) => s.conversationsLoaded);
  const activeId = useApp((s) => s.activeId);
  const query = useApp((s) => s.searchQuery);
  const [confirmDelete, setConfirmDelete] = useState<ConversationSummary | null>(null);
  const actions = useActions();

  return (
    <>
      <ul className="conversation-list" aria-label="Conversations" aria-busy={!loaded}>
        {loaded && conversations.length === 0 && (
          <li className="muted empty-list">
            {query.trim() ? "No chats match this search." : "No chats yet."}
          </li>
        )}
        {conversations.map((c) => (
          <ConversationItem
            key={c.id}
            conversation={c}
            active={c.id === activeId}
            query={query}
            onDelete={setConfirmDelete}
          />
        ))}
      </ul>
      {confirmDelete && (
        <ConfirmDialog
          title="Delete this chat?"
          body={`“${confirmDelete.title}” and all its messages will be deleted from this computer. This cannot be undone.`}
          confirmLabel="Delete chat"
          onCancel={() => setConfirmDelete(null)}
          onConfirm={() => {
            const id = confirmDelete.id;
            setConfirmDelete(null);
            void actions.deleteConversation(id);
          }}
        />
      )}
    </>
  );
}

const ConversationItem = memo(function ConversationItem({
  conversation,
  active,
  query,
  onDelete,
}: {
  conversation: ConversationSummary;
  active: boolean;
  /** The search the list shows results of ("" when none): its matches are marked. */
  query: string;
  onDelete(c: ConversationSummary): void;
}) {
  const actions = useActions();
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(conversation.title);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (renaming) {
      inputRef.current?.focus();
      inputRef.current?.select();
    }
  }, [renaming]);

  const commit = () => {
    setRenaming(false);
    if (title.trim() && title.trim() !== conversation.title)
      void actions.renameConversation(conversation.id, title);
    else setTitle(conversation.title);
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") commit();
    if (e.key === "Escape") {
      e.stopPropagation();
      setTitle(conversation.title);
      setRenaming(false);
    }
  };

  return (
    <li className={active ? "conversation active" : "conversation"}>
      {renaming ? (
        <input
          ref={inputRef}
          className="rename-input"
          aria-label={`New name for ${conversation.title}`}
          value={title}
          maxLength={200}
          onChange={(e) => setTitle(e.target.value)}
          onBlur={commit}
          onKeyDown={onKey}
        />
      ) : (
        <button
          type="button"
          className="conversation-open"
          aria-current={active ? "true" : undefined}
          onClick={() => void actions.openConversation(conversation.id)}
        >
          <span className="conversation-title">
            <Highlighted text={conversation.title || "Untitled chat"} query={query} />
          </span>
          <span className="conversation-meta">
            {query.trim() && conversation.snippet ? (
              <span className="conversation-preview conversation-snippet" data-testid="search-snippet">
                <Highlighted text={conversation.snippet} query={query} />
              </span>
            ) : (
              <span className="conversation-preview">{conversation.preview || "No messages yet"}</span>
            )}
            <time dateTime={conversation.updatedAt}>{formatWhen(conversation.updatedAt)}</time>
          </span>
        </button>
      )}
      {!renaming && (
        <span className="conversation-actions">
          <button
            type="button"
            className="icon-btn"
            aria-label={`Rename ${conversation.title}`}
            title="Rename"
            onClick={() => {
              setTitle(conversation.title);
              setRenaming(true);
            }}
          >
            <Icon name="edit" size={14} />
          </button>
          <button
            type="button"
            className="icon-btn"
            aria-label={`Delete ${conversation.title}`}
            title="Delete"
            onClick={() => onDelete(conversation)}
          >
            <Icon name="trash" size={14} />
          </button>
        </span>
      )}
    </li>
  );
});

/** The text with every match of the search in <mark>. */
function Highlighted({ text, query }: { text: string; query: string }) {
  return highlightParts(text, query).map((part, i) =>
    part.match ? <mark key={i}>{part.text}</mark> : <Fragment key={i}>{part.text}</Fragment>,
  );
}
