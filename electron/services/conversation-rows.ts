// Prepared statements of the conversation store and the mapping from rows to contract shapes.
import type Database from "better-sqlite3";
import type {
  Conversation,
  ConversationSummary,
  GenerationStats,
  Message,
  ChatSampling,
  JsonAnswer,
} from "../contract.js";

export interface ConversationRow {
  id: string;
  title: string;
  system_prompt: string;
  sampling: string;
  overflow: Conversation["overflow"];
  json_answer: string | null;
  model_id: string | null;
  created_at: string;
  updated_at: string;
  preview: string | null;
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: Message["role"];
  content: string;
  created_at: string;
  model_id: string | null;
  state: "streaming" | "done";
  token_texts: string;
  exit_layers: string;
  stats: string | null;
  version_group: string | null;
  active: 0 | 1;
}

export interface TokenRow {
  text: string;
  exit_layer: number;
}

const PREVIEW = `(SELECT substr(content, 1, 160) FROM messages m
                  WHERE m.conversation_id = c.id AND m.active = 1 AND m.content != ''
                  ORDER BY m.seq DESC LIMIT 1) AS preview`;

export function prepare(db: Database.Database) {
  const statement = <P extends unknown[] | object, R = unknown>(sql: string) => db.prepare<P, R>(sql);
  type Id = { id: string };
  return {
    list: statement<{ pattern: string | null }, ConversationRow>(
      `SELECT c.*, ${PREVIEW} FROM conversations c
       WHERE :pattern IS NULL OR c.title LIKE :pattern ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.active = 1
                     AND m.content LIKE :pattern ESCAPE '\\')
       ORDER BY c.updated_at DESC, c.rowid DESC`,
    ),
    /** The first message shown in a chat that contains the search (for its snippet). */
    firstMatch: statement<{ id: string; pattern: string }, { content: string }>(
      `SELECT content FROM messages WHERE conversation_id = :id AND active = 1
         AND content LIKE :pattern ESCAPE '\\' ORDER BY seq LIMIT 1`,
    ),
    titlesLike: statement<{ pattern: string }, { title: string }>(
      `SELECT title FROM conversations WHERE title LIKE :pattern ESCAPE '\\'`,
    ),
    conversation: statement<Id, ConversationRow>(
      `SELECT c.*, ${PREVIEW} FROM conversations c WHERE c.id = :id`,
    ),
    insertConversation: statement<{ id: string; title: string; sampling: string; at: string }>(
      `INSERT INTO conversations (id, title, sampling, created_at, updated_at) VALUES (:id, :title, :sampling, :at, :at)`,
    ),
    rename: statement<{ id: string; title: string; at: string }>(
      `UPDATE conversations SET title = :title, updated_at = :at WHERE id = :id`,
    ),
    updateSettings: statement<{
      id: string;
      systemPrompt: string;
      sampling: string;
      overflow: Conversation["overflow"];
      jsonAnswer: string | null;
      at: string;
    }>(
      `UPDATE conversations SET system_prompt = :systemPrompt, sampling = :sampling, overflow = :overflow, json_answer = :jsonAnswer, updated_at = :at WHERE id = :id`,
    ),
    setConversationModel: statement<{ id: string; modelId: string | null }>(
      `UPDATE conversations SET model_id = :modelId WHERE id = :id`,
    ),
    touch: statement<{ id: string; at: string }>(`UPDATE conversations SET updated_at = :at WHERE id = :id`),
    deleteConversation: statement<Id>(`DELETE FROM conversations WHERE id = :id`),

    messages: statement<Id, MessageRow>(
      `SELECT * FROM messages WHERE conversation_id = :id AND active = 1 ORDER BY seq`,
    ),
    /** Every answer version of a conversation with the answer it is a version of, oldest first. */
    versions: statement<Id, { id: string; answer: string }>(
      `SELECT id, COALESCE(version_group, id) AS answer FROM messages
       WHERE conversation_id = :id AND role = 'assistant' ORDER BY seq`,
    ),
    setVersionGroup: statement<{ id: string; group: string }>(
      `UPDATE messages SET version_group = :group WHERE id = :id`,
    ),
    setAside: statement<Id>(`UPDATE messages SET active = 0 WHERE id = :id`),
    deleteMessage: statement<Id>(`DELETE FROM messages WHERE id = :id`),
    /** Shows one version of an answer and sets its other versions aside. */
    showVersion: statement<{ id: string; conversationId: string; group: string }>(
      `UPDATE messages SET active = (id = :id)
       WHERE conversation_id = :conversationId AND COALESCE(version_group, id) = :group`,
    ),
    message: statement<Id, MessageRow>(`SELECT * FROM messages WHERE id = :id`),
    messageIds: statement<Id, { id: string }>(`SELECT id FROM messages WHERE conversation_id = :id`),
    lastMessage: statement<Id, MessageRow>(
      `SELECT * FROM messages WHERE conversation_id = :id AND active = 1 ORDER BY seq DESC LIMIT 1`,
    ),
    streamingMessages: statement<[], MessageRow>(`SELECT * FROM messages WHERE state = 'streaming'`),
    insertMessage: statement<{
      id: string;
      conversationId: string;
      role: string;
      content: string;
      at: string;
      modelId: string | null;
      state: string;
    }>(
      `INSERT INTO messages (id, conversation_id, seq, role, content, created_at, model_id, state)
       VALUES (:id, :conversationId,
               (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = :conversationId),
               :role, :content, :at, :modelId, :state)`,
    ),
    setContent: statement<{ id: string; content: string }>(
      `UPDATE messages SET content = :content WHERE id = :id`,
    ),
    messageIdsAfter: statement<{ id: string; seq: number }, { id: string }>(
      `SELECT id FROM messages WHERE conversation_id = :id AND seq > :seq`,
    ),
    deleteAfter: statement<{ id: string; seq: number }>(
      `DELETE FROM messages WHERE conversation_id = :id AND seq > :seq`,
    ),
    finish: statement<{ id: string; content: string; tokenTexts: string; exitLayers: string; stats: string }>(
      `UPDATE messages SET state = 'done', content = :content, token_texts = :tokenTexts, exit_layers = :exitLayers, stats = :stats
       WHERE id = :id`,
    ),

    // Skips tokens of a message deleted meanwhile and tokens already stored (a resent index).
    insertToken: statement<{ id: string; idx: number; text: string; exitLayer: number }>(
      `INSERT OR IGNORE INTO stream_tokens (message_id, idx, text, exit_layer)
       SELECT :id, :idx, :text, :exitLayer WHERE EXISTS (SELECT 1 FROM messages WHERE id = :id AND state = 'streaming')`,
    ),
    streamTokens: statement<Id, TokenRow>(
      `SELECT text, exit_layer FROM stream_tokens WHERE message_id = :id ORDER BY idx`,
    ),
    deleteStreamTokens: statement<Id>(`DELETE FROM stream_tokens WHERE message_id = :id`),
  };
}

export function toSummary(row: ConversationRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title,
    updatedAt: row.updated_at,
    modelId: row.model_id,
    preview: row.preview ?? "",
  };
}

export function toConversation(row: ConversationRow): Conversation {
  return {
    ...toSummary(row),
    systemPrompt: row.system_prompt,
    sampling: JSON.parse(row.sampling) as ChatSampling,
    overflow: row.overflow,
    jsonAnswer: row.json_answer ? (JSON.parse(row.json_answer) as JsonAnswer) : null,
    createdAt: row.created_at,
  };
}

/**
 * `streamed`: the tokens stored so far when the message is still streaming; `versions`: the ids of
 * every version of this answer, oldest first (given only when there is more than one).
 */
export function toMessage(row: MessageRow, streamed: TokenRow[] | null, versions?: string[]): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    role: row.role,
    content: streamed ? streamed.map((t) => t.text).join("") : row.content,
    createdAt: row.created_at,
    exitLayers: streamed ? streamed.map((t) => t.exit_layer) : (JSON.parse(row.exit_layers) as number[]),
    tokenTexts: streamed ? streamed.map((t) => t.text) : (JSON.parse(row.token_texts) as string[]),
    stats: row.stats ? (JSON.parse(row.stats) as GenerationStats) : null,
    modelId: row.model_id,
    ...(versions && versions.length > 1 ? { versions } : {}),
  };
}
