// Durability: SIGKILL the process that owns SQLite (a whole back end, answering with the real engine)
// in the middle of an answer, many times over one database. After each kill the database must pass
// PRAGMA integrity_check, the interrupted answer must come back on the next start (marked
// "interrupted"), and it may lack only the tokens not yet flushed: the store writes every 16 tokens
// or 250 ms, so at most 15.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { rng } from "../../native-models/test-support/ggml-blocks.js";
import { ConversationStore, TOKEN_FLUSH_COUNT } from "../../electron/services/conversations.js";
import { SettingsStore } from "../../electron/services/settings.js";
import { copyStoriesInto } from "../../electron/test-support/stories-package.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.resolve(here, "../../electron/test-support/backend-child.ts");

export interface DurabilityRound {
  round: number;
  /** The kill came after this many tokens of the answer had been shown. */
  killAfter: number;
  /** Tokens of that answer the back end had emitted when it died (as far as its output tells). */
  shown: number;
  stored: number;
  lost: number;
  /** integrity_check straight after the kill, and again after the store's recovery on reopening. */
  integrity: string;
  integrityAfterRecovery: string;
  recoveredAs: string | null;
  answersInDatabase: number;
}

export interface DurabilityReport {
  rounds: DurabilityRound[];
  maxLost: number;
  bound: number;
  ms: number;
}

export async function runDurabilityKills(o: {
  rounds: number;
  seed?: number;
  log?: (line: string) => void;
}): Promise<DurabilityReport> {
  const started = performance.now();
  const r = rng(o.seed ?? 1);
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-durability-"));
  const file = path.join(userDataDir, "conversations.sqlite");
  const rounds: DurabilityRound[] = [];
  try {
    const modelId = await copyStoriesInto(path.join(userDataDir, "models"));
    new SettingsStore(userDataDir).set({ activeModelId: modelId });
    for (let round = 0; round < o.rounds; round++) {
      // Mostly early in an answer, sometimes late, so both flush paths are hit.
      const killAfter = 1 + Math.floor(r() < 0.7 ? r() * 60 : r() * 380);
      const { messageId, shown } = await runUntilKilled(userDataDir, killAfter);
      const raw = new Database(file, { readonly: true });
      const integrity = String(raw.pragma("integrity_check", { simple: true }));
      raw.close();
      const store = new ConversationStore({ file });
      const integrityAfterRecovery = store.integrityCheck();
      const message = store.db.prepare("SELECT conversation_id FROM messages WHERE id = ?").get(messageId) as
        { conversation_id: string } | undefined;
      const answer = message
        ? store.get(message.conversation_id).messages.find((m) => m.id === messageId)
        : undefined;
      const stored = answer?.tokenTexts.length ?? 0;
      const answersInDatabase = (
        store.db.prepare("SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant'").get() as { n: number }
      ).n;
      store.close();
      const result: DurabilityRound = {
        round,
        killAfter,
        shown,
        stored,
        lost: Math.max(0, shown - stored),
        integrity,
        integrityAfterRecovery,
        recoveredAs: answer?.stats?.stopReason ?? null,
        answersInDatabase,
      };
      rounds.push(result);
      o.log?.(
        `kill ${round + 1} after ${killAfter} tokens: ${shown} shown, ${stored} stored, ${result.lost} lost; integrity ${integrity}/${integrityAfterRecovery}; recovered as ${result.recoveredAs}`,
      );
    }
    return {
      rounds,
      maxLost: Math.max(0, ...rounds.map((x) => x.lost)),
      bound: TOKEN_FLUSH_COUNT - 1,
      ms: performance.now() - started,
    };
  } finally {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

/** Starts the back-end process and SIGKILLs it once an answer has shown `killAfter` tokens. */
function runUntilKilled(
  userDataDir: string,
  killAfter: number,
): Promise<{ messageId: string; shown: number }> {
  const proc = spawn(process.execPath, ["--import", "tsx", child, userDataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let current = "";
  let shown = 0;
  let buffer = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`no kill within 60 s (saw ${shown} tokens)`));
    }, 60_000);
    proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        const [kind, messageId, index] = line.split(" ");
        if (kind !== "token") continue;
        if (messageId !== current) {
          current = messageId;
          shown = 0;
        }
        shown = Math.max(shown, Number(index) + 1);
        if (shown >= killAfter && proc.exitCode === null && !proc.killed) proc.kill("SIGKILL");
      }
    });
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" && current) resolve({ messageId: current, shown });
      else reject(new Error(`the back-end process ended by itself (code ${code}, signal ${signal})`));
    });
  });
}
