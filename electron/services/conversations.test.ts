import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { ConversationStore, DEFAULT_TITLE, TOKEN_FLUSH_COUNT, TOKEN_FLUSH_MS } from "./conversations.js";
import { DEFAULT_SAMPLING } from "./settings.js";

let dir: string;
let file: string;
let store: ConversationStore;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-conv-"));
  file = path.join(dir, "conversations.sqlite");
  store = new ConversationStore({ file });
});
afterEach(() => {
  try {
    store.close();
  } catch {
    // already closed by the test
  }
  rmSync(dir, { recursive: true, force: true });
});

const stats = {
  tokens: 3,
  tokensPerSecond: 10,
  timeToFirstTokenMs: 50,
  meanExitLayer: 1,
  layers: 4,
  stopReason: "eos" as const,
};

function answer(conversationId: string, words: string[]) {
  const message = store.startAssistant(conversationId, "m1");
  words.forEach((text, index) => store.appendToken(message.id, { index, text, exitLayer: index }));
  return store.finishAssistant(message.id, { ...stats, tokens: words.length })!;
}

describe("ConversationStore", () => {
  it("uses WAL and a sound database", () => {
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.integrityCheck()).toBe("ok");
  });

  it("creates, names from the first message, lists newest first, renames and deletes", () => {
    const a = store.create({ sampling: DEFAULT_SAMPLING });
    expect(a.title).toBe(DEFAULT_TITLE);
    store.addMessage(a.id, "user", "How do rockets work?\nAnd why?");
    const b = store.create({ title: "Second", sampling: DEFAULT_SAMPLING });
    expect(store.list().map((c) => c.title)).toEqual(["Second", "How do rockets work?"]);
    expect(store.rename(a.id, "Rockets").title).toBe("Rockets");
    expect(store.list()[0]).toMatchObject({ id: a.id, preview: "How do rockets work?\nAnd why?" });
    expect(store.delete(b.id)).toBe(true);
    expect(store.delete(b.id)).toBe(false);
    expect(() => store.get(b.id)).toThrow(/No conversation/);
  });

  it("keeps streamed tokens with their exit layers and stats", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    store.addMessage(c.id, "user", "Hi");
    const done = answer(c.id, ["Hel", "lo", "!"]);
    expect(done).toMatchObject({
      role: "assistant",
      content: "Hello!",
      tokenTexts: ["Hel", "lo", "!"],
      exitLayers: [0, 1, 2],
      modelId: "m1",
    });
    expect(done.stats).toMatchObject({ tokens: 3, stopReason: "eos" });
    expect(store.get(c.id).messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(store.db.prepare("SELECT COUNT(*) AS n FROM stream_tokens").get()).toEqual({ n: 0 });
  });

  it("ends the last token with the text the engine held back; the stats kept do not repeat it", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    const message = store.startAssistant(c.id, "m1");
    ["The ", "en"].forEach((text, index) => store.appendToken(message.id, { index, text, exitLayer: 1 }));
    const done = store.finishAssistant(message.id, { ...stats, tokens: 2, tail: "d" })!;
    expect(done.content).toBe("The end");
    expect(done.tokenTexts).toEqual(["The ", "end"]);
    expect(store.message(message.id).stats).not.toHaveProperty("tail");
  });

  it("shows a streaming answer's tokens so far, flushing every TOKEN_FLUSH_COUNT tokens", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    const m = store.startAssistant(c.id, "m1");
    const stored = () =>
      (store.db.prepare("SELECT COUNT(*) AS n FROM stream_tokens").get() as { n: number }).n;
    for (let i = 0; i < TOKEN_FLUSH_COUNT - 1; i++)
      store.appendToken(m.id, { index: i, text: "x", exitLayer: 1 });
    expect(stored()).toBe(0);
    store.appendToken(m.id, { index: TOKEN_FLUSH_COUNT - 1, text: "x", exitLayer: 1 });
    expect(stored()).toBe(TOKEN_FLUSH_COUNT);
    store.appendToken(m.id, { index: TOKEN_FLUSH_COUNT, text: "y", exitLayer: 2 });
    expect(store.get(c.id).messages[0]).toMatchObject({
      content: "x".repeat(TOKEN_FLUSH_COUNT) + "y",
      stats: null,
    });
  });

  it("writes a slow answer's tokens within TOKEN_FLUSH_MS, visible to a fresh reader of the file", async () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    const m = store.startAssistant(c.id, "m1");
    for (let i = 0; i < 3; i++) store.appendToken(m.id, { index: i, text: "z", exitLayer: 1 });
    const onDisk = () => {
      const reader = new Database(file, { readonly: true });
      const n = (reader.prepare("SELECT COUNT(*) AS n FROM stream_tokens").get() as { n: number }).n;
      reader.close();
      return n;
    };
    expect(onDisk()).toBe(0);
    await new Promise((r) => setTimeout(r, TOKEN_FLUSH_MS + 100));
    expect(onDisk()).toBe(3);
  });

  it("gives chats that start with the same words distinct titles", () => {
    const titles = [];
    for (let i = 0; i < 5; i++) {
      const c = store.create({ sampling: DEFAULT_SAMPLING });
      titles.push(store.addMessage(c.id, "user", "Once upon a time") && store.conversation(c.id).title);
    }
    expect(titles).toEqual([
      "Once upon a time",
      "Once upon a time (2)",
      "Once upon a time (3)",
      "Once upon a time (4)",
      "Once upon a time (5)",
    ]);
    // Long first lines that differ only after the cut are numbered too.
    const long = "Once upon a time there was a little girl who lived in a village near the forest";
    const first = store.create({ sampling: DEFAULT_SAMPLING });
    store.addMessage(first.id, "user", `${long}, Lily.`);
    const second = store.create({ sampling: DEFAULT_SAMPLING });
    store.addMessage(second.id, "user", `${long}, Sue.`);
    expect(store.conversation(second.id).title).toBe(`${store.conversation(first.id).title} (2)`);
  });

  it("gives each search result the words around the match", () => {
    const a = store.create({ title: "Story", sampling: DEFAULT_SAMPLING });
    store.addMessage(a.id, "user", "Tell me a story");
    answer(a.id, [
      "Lily went to the park with her mum and her little brother Ben. ",
      "There she found a red balloon ",
      "stuck high up in a tall old tree, and she cried because she could not reach it at all.",
    ]);
    const [hit] = store.list("BALLOON");
    expect(hit.snippet).toMatch(
      /^…brother Ben\. There she found a red balloon stuck high up in a tall old tree/,
    );
    expect(hit.snippet!.length).toBeLessThan(150);
    // A title match has no message words to show; without a search there are no snippets.
    expect(store.list("story")[0].snippet).toBe("Tell me a story");
    expect(store.list("Story")[0].snippet).toBeDefined();
    expect(store.list()[0].snippet).toBeUndefined();
  });

  it("searches titles and message text, treating % and _ literally", () => {
    const a = store.create({ title: "Cooking", sampling: DEFAULT_SAMPLING });
    store.addMessage(a.id, "user", "A recipe for 100% rye bread");
    const b = store.create({ title: "Travel plans", sampling: DEFAULT_SAMPLING });
    answer(b.id, ["Visit ", "Kyoto"]);
    expect(store.list("rye").map((c) => c.id)).toEqual([a.id]);
    expect(store.list("kyoto").map((c) => c.id)).toEqual([b.id]);
    expect(store.list("travel").map((c) => c.id)).toEqual([b.id]);
    expect(store.list("100%").map((c) => c.id)).toEqual([a.id]);
    expect(store.list("1_0")).toEqual([]);
    expect(store.list("   ")).toHaveLength(2);
  });

  it("edits a user message and drops what followed, answer versions too", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    const first = store.addMessage(c.id, "user", "one");
    const a = answer(c.id, ["a"]);
    const again = store.startAssistant(c.id, "m1", store.setAsideLastAnswer(c.id));
    store.finishAssistant(again.id, stats);
    store.addMessage(c.id, "user", "two");
    answer(c.id, ["b"]);
    expect(store.editUserMessage(c.id, first.id, "uno").content).toBe("uno");
    expect(store.history(c.id)).toEqual([{ role: "user", content: "uno" }]);
    expect(() => store.message(a.id)).toThrow(/No message/);
    expect(() => store.editUserMessage("other", first.id, "x")).toThrow(/No user message/);
  });

  it("keeps the answer before a regenerate as a version, shows either, and keeps them across a restart", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    store.addMessage(c.id, "user", "Tell me a story");
    const v1 = answer(c.id, ["Once", " upon"]);
    expect(v1.versions).toBeUndefined();
    const versionOf = store.setAsideLastAnswer(c.id);
    expect(versionOf).toBe(v1.id);
    // Set aside, the first answer is no longer part of what the model sees.
    expect(store.history(c.id)).toEqual([{ role: "user", content: "Tell me a story" }]);
    const v2 = store.startAssistant(c.id, "m1", versionOf);
    ["A", " dog"].forEach((text, index) => store.appendToken(v2.id, { index, text, exitLayer: 1 }));
    store.finishAssistant(v2.id, stats);
    expect(store.get(c.id).messages.map((m) => [m.content, m.versions])).toEqual([
      ["Tell me a story", undefined],
      ["A dog", [v1.id, v2.id]],
    ]);
    expect(store.list()[0].preview).toBe("A dog");

    const shown = store.showVersion(c.id, v1.id).messages;
    expect(shown.map((m) => m.content)).toEqual(["Tell me a story", "Once upon"]);
    expect(shown[1]).toMatchObject({ id: v1.id, versions: [v1.id, v2.id], tokenTexts: ["Once", " upon"] });
    // A third version, regenerated from the first one shown.
    const v3 = store.startAssistant(c.id, "m1", store.setAsideLastAnswer(c.id));
    store.finishAssistant(v3.id, stats);
    store.close();
    store = new ConversationStore({ file });
    expect(store.get(c.id).messages[1]).toMatchObject({ id: v3.id, versions: [v1.id, v2.id, v3.id] });
    expect(() => store.showVersion(c.id, "nope")).toThrow(/No answer/);
    // An empty answer (a failure) is not worth keeping: regenerating it leaves no version behind.
    store.addMessage(c.id, "user", "And then?");
    const failed = store.startAssistant(c.id, "m1");
    store.finishAssistant(failed.id, { ...stats, tokens: 0, stopReason: "error" });
    const next = store.startAssistant(c.id, "m1", store.setAsideLastAnswer(c.id));
    expect(store.message(next.id).versions).toBeUndefined();
  });

  it("upgrades a database from before answer versions, keeping every message", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    store.addMessage(c.id, "user", "hi");
    answer(c.id, ["hello"]);
    store.close();
    // A version 2 file written by the previous release: its rows have neither column.
    const v2 = new Database(file);
    v2.exec("DROP INDEX messages_by_version; ALTER TABLE messages DROP COLUMN active;");
    v2.exec(
      "ALTER TABLE messages DROP COLUMN version_group; ALTER TABLE conversations DROP COLUMN json_answer;",
    );
    v2.exec("PRAGMA user_version = 2;");
    v2.close();
    store = new ConversationStore({ file });
    expect(store.db.pragma("user_version", { simple: true })).toBe(4);
    expect(store.conversation(c.id).jsonAnswer).toBeNull();
    expect(store.get(c.id).messages.map((m) => m.content)).toEqual(["hi", "hello"]);
    expect(store.setAsideLastAnswer(c.id)).not.toBeNull();
    expect(store.integrityCheck()).toBe("ok");
  });

  it("keeps a chat's 'answer as JSON' schema, and switches it off", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    expect(store.conversation(c.id).jsonAnswer).toBeNull();
    const schema = { type: "object", properties: { a: { type: "integer" } } };
    store.update(c.id, { jsonAnswer: { schema } });
    store.update(c.id, { systemPrompt: "Be brief." }); // other changes leave it as it is
    store.close();
    store = new ConversationStore({ file });
    expect(store.conversation(c.id).jsonAnswer).toEqual({ schema });
    store.update(c.id, { jsonAnswer: { schema: null } });
    expect(store.conversation(c.id).jsonAnswer).toEqual({ schema: null });
    store.update(c.id, { jsonAnswer: null });
    expect(store.conversation(c.id).jsonAnswer).toBeNull();
  });

  it("updates the system prompt and sampling, and exports Markdown", () => {
    const c = store.create({ title: "Export me / please", sampling: DEFAULT_SAMPLING });
    store.update(c.id, { systemPrompt: "Be brief.", sampling: { ...DEFAULT_SAMPLING, temperature: 0.2 } });
    store.addMessage(c.id, "user", "Hi");
    answer(c.id, ["Hello", "!"]);
    const { filename, markdown } = store.exportMarkdown(c.id);
    expect(filename).toBe("export-me-please.md");
    expect(markdown).toContain("# Export me / please");
    expect(markdown).toContain("> Be brief.");
    expect(markdown).toContain("## You\n\nHi");
    expect(markdown).toContain("## Assistant · m1\n\nHello!");
    expect(markdown).toMatch(
      /2 tokens · 10\.0 tokens\/s · first token 50 ms · mean exit layer 1\.0 of 4 · eos/,
    );
    expect(store.conversation(c.id).sampling.temperature).toBe(0.2);
  });

  it("recovers an answer cut off by a restart as interrupted", () => {
    const c = store.create({ sampling: DEFAULT_SAMPLING });
    const m = store.startAssistant(c.id, "m1");
    for (let i = 0; i < 20; i++) store.appendToken(m.id, { index: i, text: `${i},`, exitLayer: 2 });
    store.close();
    store = new ConversationStore({ file });
    const [recovered] = store.get(c.id).messages;
    expect(recovered.stats).toMatchObject({ stopReason: "interrupted", tokens: 20, meanExitLayer: 2 });
    expect(recovered.tokenTexts).toHaveLength(20);
  });

  it("loses at most TOKEN_FLUSH_COUNT - 1 tokens when killed mid-answer, and stays intact", async () => {
    store.close();
    for (let round = 0; round < 3; round++) {
      const roundFile = path.join(dir, `kill-${round}.sqlite`);
      const reported = await runAndKill(roundFile, 40 + round * 37);
      const reopened = new ConversationStore({ file: roundFile });
      expect(reopened.integrityCheck()).toBe("ok");
      const [conversation] = reopened.list();
      const answerMessage = reopened.get(conversation.id).messages[1];
      expect(answerMessage.stats?.stopReason).toBe("interrupted");
      expect(answerMessage.tokenTexts.length).toBeGreaterThanOrEqual(reported - (TOKEN_FLUSH_COUNT - 1));
      expect(answerMessage.content.startsWith("w0 w1 w2 ")).toBe(true);
      reopened.close();
    }
  });
});

/** Runs the stream writer, SIGKILLs it once it has reported `after` tokens, returns the last count seen. */
function runAndKill(dbFile: string, after: number): Promise<number> {
  const writer = path.resolve(import.meta.dirname, "../test-support/stream-writer.ts");
  const child = spawn(process.execPath, ["--import", "tsx", writer, dbFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let last = 0;
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const counts = chunk.trim().split("\n").map(Number);
      last = Math.max(last, ...counts.filter(Number.isFinite));
      if (last >= after && !child.killed) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(last) : reject(new Error(`writer ended without a kill (${signal})`)),
    );
  });
}
