// The conversation database's schema, applied step by step with `PRAGMA user_version`,
// so an older database is upgraded in place and a newer one is refused rather than damaged.
import type Database from "better-sqlite3";

const migrations: string[] = [
  `CREATE TABLE conversations (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     system_prompt TEXT NOT NULL DEFAULT '',
     sampling TEXT NOT NULL,
     model_id TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX conversations_by_update ON conversations(updated_at);
   CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
     content TEXT NOT NULL,
     created_at TEXT NOT NULL,
     model_id TEXT,
     -- 'streaming' while tokens arrive (they live in stream_tokens), 'done' once packed into this row.
     state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('streaming', 'done')),
     token_texts TEXT NOT NULL DEFAULT '[]',
     exit_layers TEXT NOT NULL DEFAULT '[]',
     stats TEXT
   );
   CREATE UNIQUE INDEX messages_in_order ON messages(conversation_id, seq);
   -- Append-only while an answer streams, so each flush is a few small inserts, never a row rewrite.
   CREATE TABLE stream_tokens (
     message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     text TEXT NOT NULL,
     exit_layer INTEGER NOT NULL,
     PRIMARY KEY (message_id, idx)
   ) WITHOUT ROWID;`,
  // What a chat does when it outgrows the context window (ContextOverflow).
  `ALTER TABLE conversations ADD COLUMN overflow TEXT NOT NULL DEFAULT 'drop-oldest'
     CHECK (overflow IN ('drop-oldest', 'stop'));`,
  // Versions of an answer (Regenerate keeps the one before): the rows of one answer share
  // version_group (the first version's id; NULL on that first one), and only the version shown
  // (active = 1) is part of the conversation the model and the list see.
  `ALTER TABLE messages ADD COLUMN version_group TEXT;
   ALTER TABLE messages ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
   CREATE INDEX messages_by_version ON messages(conversation_id, version_group);`,
  // "Answer as JSON" (Conversation.jsonAnswer): NULL for plain text, else {"schema": … | null}.
  `ALTER TABLE conversations ADD COLUMN json_answer TEXT;`,
];

export const SCHEMA_VERSION = migrations.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `The conversation database is from a newer Exitlane (schema ${current}; this version knows ${SCHEMA_VERSION}).`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(migrations[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
