// A back end in a process of its own, answering one message after another until it is killed:
// the process that owns SQLite, for the durability test. It reports on stdout, one line each,
//   ready                     once the model is loaded
//   token <messageId> <index> after the back end has emitted that token (it is then "shown")
//   done <messageId> <stopReason>
// Run as: node --import tsx backend-child.ts <userDataDir> (the model already active in its settings).
import { createBackend } from "../services/backend.js";
import { realHostEntry, spawnTsHost } from "./engine.js";

const userDataDir = process.argv[2];
const backend = createBackend({ userDataDir, engine: { spawn: spawnTsHost(realHostEntry) } });
const say = (line: string) => process.stdout.write(`${line}\n`);

backend.events.subscribe((event, payload) => {
  const p = payload as unknown as { messageId: string; index: number; stats: { stopReason: string } };
  if (event === "generation.token") say(`token ${p.messageId} ${p.index}`);
  if (event === "generation.done") say(`done ${p.messageId} ${p.stats.stopReason}`);
});

async function call<T>(channel: string, payload: unknown): Promise<T> {
  const reply = await backend.dispatch(channel, payload);
  if (!reply.ok) throw new Error(`${channel}: ${reply.error.message}`);
  return reply.result as T;
}

async function main() {
  const { activeModelId } = await call<{ activeModelId: string }>("settings.get", {});
  await call("models.select", { id: activeModelId });
  say("ready");
  for (let n = 0; ; n++) {
    const chat = await call<{ id: string }>("chat.create", { title: `Answer ${n}` });
    await call("chat.update", {
      id: chat.id,
      sampling: {
        temperature: 0.9,
        topP: 0.95,
        topK: 40,
        minP: 0,
        repetitionPenalty: 1,
        maxTokens: 400,
        seed: n,
      },
    });
    const done = new Promise<void>((resolve) => {
      const off = backend.events.subscribe((event) => {
        if (event === "generation.done") {
          off();
          resolve();
        }
      });
    });
    await call("chat.send", { conversationId: chat.id, text: "Tell me a long story" });
    await done;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
