// Engine process isolation: SIGKILL the engine host in the middle of an answer, through a running
// back end. The back end must restart the host, say so in `engine.status`, keep every token it had
// shown in SQLite, and answer the next message (loading the model again into the new host).
import Database from "better-sqlite3";
import path from "node:path";
import type { Conversation, EventOf, Message } from "../../electron/contract.js";
import { sampling, until, type RealBackend } from "../../electron/test-support/real-backend.js";

export interface EngineKillRound {
  afterTokens: number;
  /** Tokens the back end had emitted as events for the interrupted answer. */
  shown: number;
  /** Tokens of that answer in SQLite, read through a separate connection. */
  stored: number;
  /** Every shown token is stored, in order, with its text. */
  storedMatchesShown: boolean;
  stopReason: string;
  doneError: string | undefined;
  statuses: Array<EventOf<"engine.status">>;
  restartMs: number;
  oldPid: number;
  newPid: number;
  /** The next message after the restart. */
  next: { tokens: number; stopReason: string; loadedModelId: string | null };
}

type Token = EventOf<"generation.token">;

export async function killEngineMidAnswer(b: RealBackend, afterTokens: number): Promise<EngineKillRound> {
  const engine = b.backend.services.engine;
  await engine.start();
  const chat = await b.call<Conversation>("chat.create", { title: "Kill the engine" });
  await b.call("chat.update", { id: chat.id, sampling: sampling(480) });
  const statuses: Array<EventOf<"engine.status">> = [];
  const tokens: Token[] = [];
  const off = b.backend.events.subscribe((event, payload) => {
    if (event === "engine.status") statuses.push(payload as EventOf<"engine.status">);
    if (event === "generation.token") tokens.push(payload as Token);
  });
  try {
    const oldPid = engine.pid!;
    const { assistantMessageId } = await b.call<{ assistantMessageId: string }>("chat.send", {
      conversationId: chat.id,
      text: "Tell me a long story",
    });
    const mine = () => tokens.filter((t) => t.messageId === assistantMessageId);
    const done = b.next("generation.done", (d) => d.messageId === assistantMessageId);
    await until(() => mine().length >= afterTokens, 20_000, `${afterTokens} tokens`);
    const killedAt = performance.now();
    process.kill(oldPid, "SIGKILL");
    const finished = await done;
    const shown = mine();
    await b.next("engine.status", (s) => s.state === "ready", 30_000);
    const restartMs = performance.now() - killedAt;

    // What a fresh reader of the database file sees (WAL: committed data is visible at once).
    const db = new Database(path.join(b.userDataDir, "conversations.sqlite"), { readonly: true });
    const row = db.prepare("SELECT token_texts FROM messages WHERE id = ?").get(assistantMessageId) as {
      token_texts: string;
    };
    db.close();
    const storedTexts = JSON.parse(row.token_texts) as string[];

    const nextDone = b.next("generation.done");
    await b.call("chat.update", { id: chat.id, sampling: sampling(8) });
    await b.call("chat.send", { conversationId: chat.id, text: "What happened next?" });
    const after = await nextDone;
    const messages = (await b.call<{ messages: Message[] }>("chat.get", { id: chat.id })).messages;
    if (messages.length !== 4)
      throw new Error(`expected 4 messages after the restart, found ${messages.length}`);
    return {
      afterTokens,
      shown: shown.length,
      stored: storedTexts.length,
      storedMatchesShown: JSON.stringify(storedTexts) === JSON.stringify(shown.map((t) => t.text)),
      stopReason: finished.stats.stopReason,
      doneError: finished.error,
      statuses,
      restartMs,
      oldPid,
      newPid: engine.pid!,
      next: {
        tokens: after.stats.tokens,
        stopReason: after.stats.stopReason,
        loadedModelId: engine.status().loadedModelId,
      },
    };
  } finally {
    off();
  }
}
