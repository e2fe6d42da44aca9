// Conversations and messages in SQLite (better-sqlite3, WAL) in the user-data folder.
//
// Durability of streamed answers: tokens are buffered in memory and written in one small
// transaction every TOKEN_FLUSH_COUNT tokens or TOKEN_FLUSH_MS milliseconds, whichever comes
// first. The buffer is flushed synchronously when it reaches TOKEN_FLUSH_COUNT, so it never holds
// more than TOKEN_FLUSH_COUNT - 1 tokens: killing the app mid-answer loses at most 15 tokens
// (and never more than the last 250 ms of them). With synchronous=NORMAL a committed transaction
// survives a process kill; only an operating-system crash or power loss can also lose the latest
// commits. Neither can corrupt the database (WAL is atomic); a half-streamed answer is recovered
// on the next start, marked "interrupted".
import Database from "better-sqlite3";
import { randomUUID } from "node:crypto";
import type {
  Conversation,
  ConversationSummary,
  GenerationStats,
  Message,
  ChatSampling,
  JsonAnswer,
} from "../contract.js";
import { conversationToMarkdown } from "./conversation-markdown.js";
import { migrate } from "./conversation-schema.js";
import { distinctTitle, snippetAround, titleFrom } from "./conversation-text.js";
import { notFound } from "./errors.js";
import * as rows from "./conversation-rows.js";

export const TOKEN_FLUSH_COUNT = 16;
export const TOKEN_FLUSH_MS = 250;
export const DEFAULT_TITLE = "New chat";

export interface StreamedToken {
  index: number;
  text: string;
  exitLayer: number;
}

export interface ConversationStoreOptions {
  file: string;
  /** An Electron-ABI build of better-sqlite3's addon, when running inside Electron. */
  nativeBinding?: string;
  now?: () => Date;
}

export class ConversationStore {
  readonly db: Database.Database;
  private readonly now: () => Date;
  private lastStamp = 0;
  private readonly buffers = new Map<string, { tokens: StreamedToken[]; timer: NodeJS.Timeout | null }>();
  private readonly sql;

  constructor({ file, nativeBinding, now = () => new Date() }: ConversationStoreOptions) {
    this.db = new Database(file, nativeBinding ? { nativeBinding } : {});
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    migrate(this.db);
    this.now = now;
    this.sql = rows.prepare(this.db);
    this.recoverInterrupted();
  }

  /** Newest first; with a query, only chats whose title or messages contain it, with a snippet. */
  list(query?: string): ConversationSummary[] {
    const q = query?.trim() ?? "";
    const pattern = q ? likePattern(q) : null;
    const summaries = this.sql.list.all({ pattern }).map(rows.toSummary);
    if (!pattern) return summaries;
    return summaries.map((summary) => {
      const match = this.sql.firstMatch.get({ id: summary.id, pattern });
      const snippet = match ? snippetAround(match.content, q) : undefined;
      return snippet ? { ...summary, snippet } : summary;
    });
  }

  create({ title, sampling }: { title?: string; sampling: ChatSampling }): Conversation {
    const at = this.stamp();
    const id = randomUUID();
    this.sql.insertConversation.run({
      id,
      title: title?.trim() || DEFAULT_TITLE,
      sampling: JSON.stringify(sampling),
      at,
    });
    return this.conversation(id);
  }

  conversation(id: string): Conversation {
    const row = this.sql.conversation.get({ id });
    if (!row) throw notFound("conversation", id);
    return rows.toConversation(row);
  }

  get(id: string): { conversation: Conversation; messages: Message[] } {
    const conversation = this.conversation(id);
    this.flush();
    const versions = this.versionsOf(id);
    const messages = this.sql.messages
      .all({ id })
      .map((row) => rows.toMessage(row, this.streamedSoFar(row), versions.get(row.version_group ?? row.id)));
    return { conversation, messages };
  }

  rename(id: string, title: string): Conversation {
    this.mustChange(this.sql.rename.run({ id, title: title.trim(), at: this.stamp() }).changes, id);
    return this.conversation(id);
  }

  update(
    id: string,
    change: {
      systemPrompt?: string;
      sampling?: ChatSampling;
      overflow?: Conversation["overflow"];
      jsonAnswer?: JsonAnswer | null;
    },
  ): Conversation {
    const current = this.conversation(id);
    this.sql.updateSettings.run({
      id,
      systemPrompt: change.systemPrompt ?? current.systemPrompt,
      sampling: JSON.stringify(change.sampling ?? current.sampling),
      overflow: change.overflow ?? current.overflow,
      jsonAnswer: jsonText(change.jsonAnswer === undefined ? current.jsonAnswer : change.jsonAnswer),
      at: this.stamp(),
    });
    return this.conversation(id);
  }

  delete(id: string): boolean {
    for (const messageId of this.sql.messageIds.all({ id }).map((r) => r.id)) this.dropBuffer(messageId);
    return this.sql.deleteConversation.run({ id }).changes > 0;
  }

  /** Appends a finished message (user or system); the first user message names a "New chat". */
  addMessage(conversationId: string, role: "user" | "system", content: string): Message {
    return this.db.transaction(() => {
      const conversation = this.conversation(conversationId);
      const id = this.insertMessage(conversationId, role, content, null, "done");
      if (role === "user" && conversation.title === DEFAULT_TITLE) {
        const base = titleFrom(content, DEFAULT_TITLE);
        const taken = new Set(
          this.sql.titlesLike.all({ pattern: `${likePattern(base).slice(1)}` }).map((r) => r.title),
        );
        this.sql.rename.run({ id: conversationId, title: distinctTitle(base, taken), at: this.stamp() });
      }
      return this.message(id);
    })();
  }

  /**
   * Creates the (empty) assistant message that streamed tokens will fill; `versionOf`: the answer
   * (setAsideLastAnswer's) this is a new version of.
   */
  startAssistant(conversationId: string, modelId: string | null, versionOf?: string | null): Message {
    return this.db.transaction(() => {
      this.conversation(conversationId);
      const id = this.insertMessage(conversationId, "assistant", "", modelId, "streaming");
      if (versionOf) this.sql.setVersionGroup.run({ id, group: versionOf });
      this.sql.setConversationModel.run({ id: conversationId, modelId });
      this.buffers.set(id, { tokens: [], timer: null });
      return this.message(id);
    })();
  }

  appendToken(messageId: string, token: StreamedToken): void {
    const buffer = this.buffers.get(messageId);
    if (!buffer) return; // Not streaming (finished or deleted): nothing to keep.
    buffer.tokens.push(token);
    if (buffer.tokens.length >= TOKEN_FLUSH_COUNT) this.flushMessage(messageId);
    else if (!buffer.timer) {
      buffer.timer = setTimeout(() => this.flushMessage(messageId), TOKEN_FLUSH_MS);
      buffer.timer.unref();
    }
  }

  /** Packs the streamed tokens into the message row; null when the message no longer exists. */
  finishAssistant(messageId: string, { tail = "", ...stats }: GenerationStats): Message | null {
    this.flushMessage(messageId);
    this.dropBuffer(messageId);
    return this.db.transaction(() => {
      const row = this.sql.message.get({ id: messageId });
      if (!row) return null;
      const tokens = this.sql.streamTokens.all({ id: messageId });
      // The engine's held-back tail ends the last token's text.
      const texts = tokens.map((t) => t.text);
      if (texts.length) texts[texts.length - 1] += tail;
      this.sql.finish.run({
        id: messageId,
        content: row.state === "streaming" ? texts.join("") || tail : row.content,
        tokenTexts: JSON.stringify(row.state === "streaming" ? texts : JSON.parse(row.token_texts)),
        exitLayers: JSON.stringify(
          row.state === "streaming" ? tokens.map((t) => t.exit_layer) : JSON.parse(row.exit_layers),
        ),
        stats: JSON.stringify(stats),
      });
      this.sql.deleteStreamTokens.run({ id: messageId });
      this.sql.touch.run({ id: row.conversation_id, at: this.stamp() });
      return this.message(messageId);
    })();
  }

  message(id: string): Message {
    const row = this.sql.message.get({ id });
    if (!row) throw notFound("message", id);
    const versions = this.versionsOf(row.conversation_id).get(row.version_group ?? row.id);
    return rows.toMessage(row, this.streamedSoFar(row), versions);
  }

  /** The conversation as the model sees it: role and text of every message, in order. */
  history(conversationId: string): Array<{ role: Message["role"]; content: string }> {
    return this.get(conversationId).messages.map(({ role, content }) => ({ role, content }));
  }

  /** Changes a user message's text and removes every message after it. */
  editUserMessage(conversationId: string, messageId: string, text: string): Message {
    return this.db.transaction(() => {
      const target = this.sql.message.get({ id: messageId });
      if (!target || target.conversation_id !== conversationId || target.role !== "user")
        throw notFound("user message", messageId);
      this.deleteAfter(conversationId, target.seq);
      this.sql.setContent.run({ id: messageId, content: text });
      this.sql.touch.run({ id: conversationId, at: this.stamp() });
      return this.message(messageId);
    })();
  }

  /**
   * Before regenerating: the last answer leaves the conversation but stays as a version of it
   * (an empty one, a failure with nothing to keep, is removed). Returns the answer the new one is
   * a version of, or null when the conversation does not end with an answer.
   */
  setAsideLastAnswer(conversationId: string): string | null {
    return this.db.transaction(() => {
      const last = this.sql.lastMessage.get({ id: conversationId });
      if (!last || last.role !== "assistant") return null;
      if (last.content === "" && last.state === "done") {
        this.dropBuffer(last.id);
        this.sql.deleteMessage.run({ id: last.id });
      } else {
        this.sql.setAside.run({ id: last.id });
      }
      return last.version_group ?? last.id;
    })();
  }

  /** Shows another version of an answer in the conversation (the one shown is set aside). */
  showVersion(
    conversationId: string,
    messageId: string,
  ): { conversation: Conversation; messages: Message[] } {
    const target = this.sql.message.get({ id: messageId });
    if (!target || target.conversation_id !== conversationId || target.role !== "assistant")
      throw notFound("answer", messageId);
    this.db.transaction(() => {
      const group = target.version_group ?? target.id;
      this.sql.showVersion.run({ id: messageId, conversationId, group });
      this.sql.touch.run({ id: conversationId, at: this.stamp() });
    })();
    return this.get(conversationId);
  }

  exportMarkdown(id: string): { filename: string; markdown: string } {
    const { conversation, messages } = this.get(id);
    return conversationToMarkdown(conversation, messages, this.now());
  }

  /** Answers whose tokens are still being streamed in (buffers held in memory). */
  get streamingCount(): number {
    return this.buffers.size;
  }

  /** Writes every buffered token now. */
  flush(): void {
    for (const messageId of this.buffers.keys()) this.flushMessage(messageId);
  }

  integrityCheck(): string {
    return this.db.pragma("integrity_check", { simple: true }) as string;
  }

  close(): void {
    this.flush();
    for (const messageId of [...this.buffers.keys()]) this.dropBuffer(messageId);
    this.db.close();
  }

  // ---------- internals ----------

  private insertMessage(
    conversationId: string,
    role: Message["role"],
    content: string,
    modelId: string | null,
    state: string,
  ) {
    const id = randomUUID();
    const at = this.stamp();
    this.sql.insertMessage.run({ id, conversationId, role, content, at, modelId, state });
    this.sql.touch.run({ id: conversationId, at });
    return id;
  }

  private deleteAfter(conversationId: string, seq: number): void {
    for (const r of this.sql.messageIdsAfter.all({ id: conversationId, seq })) this.dropBuffer(r.id);
    this.sql.deleteAfter.run({ id: conversationId, seq });
  }

  /** The versions of each answer of a conversation (by the answer's first version), oldest first. */
  private versionsOf(conversationId: string): Map<string, string[]> {
    const byAnswer = new Map<string, string[]>();
    for (const { id, answer } of this.sql.versions.all({ id: conversationId })) {
      const list = byAnswer.get(answer);
      if (list) list.push(id);
      else byAnswer.set(answer, [id]);
    }
    return byAnswer;
  }

  private streamedSoFar(row: rows.MessageRow): rows.TokenRow[] | null {
    return row.state === "streaming" ? this.sql.streamTokens.all({ id: row.id }) : null;
  }

  private flushMessage(messageId: string): void {
    const buffer = this.buffers.get(messageId);
    if (!buffer) return;
    if (buffer.timer) clearTimeout(buffer.timer);
    buffer.timer = null;
    const tokens = buffer.tokens.splice(0);
    if (tokens.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const t of tokens)
          this.sql.insertToken.run({ id: messageId, idx: t.index, text: t.text, exitLayer: t.exitLayer });
      })();
    } catch (error) {
      console.error(`[conversations] could not save streamed tokens of ${messageId}:`, error);
    }
  }

  private dropBuffer(messageId: string): void {
    const buffer = this.buffers.get(messageId);
    if (buffer?.timer) clearTimeout(buffer.timer);
    this.buffers.delete(messageId);
  }

  /** Answers cut off by a kill or crash become finished messages marked "interrupted". */
  private recoverInterrupted(): void {
    for (const row of this.sql.streamingMessages.all()) {
      const tokens = this.sql.streamTokens.all({ id: row.id });
      const layers = tokens.map((t) => t.exit_layer);
      this.buffers.set(row.id, { tokens: [], timer: null });
      this.finishAssistant(row.id, {
        tokens: tokens.length,
        tokensPerSecond: 0,
        timeToFirstTokenMs: 0,
        meanExitLayer: layers.length ? layers.reduce((a, b) => a + b, 0) / layers.length : 0,
        layers: 0,
        stopReason: "interrupted",
      });
    }
  }

  private mustChange(changes: number, id: string): void {
    if (changes === 0) throw notFound("conversation", id);
  }

  /** Strictly increasing, so "most recently updated" is well defined even within one millisecond. */
  private stamp(): string {
    this.lastStamp = Math.max(this.now().getTime(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }
}

/** A LIKE pattern (ESCAPE '\\') matching text that contains `text` literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function jsonText(answer: JsonAnswer | null | undefined): string | null {
  return answer ? JSON.stringify(answer) : null;
}
