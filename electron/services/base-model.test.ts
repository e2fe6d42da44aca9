// Base models continue text: stories260K has no chat template, so the app gives it the
// conversation as one text to continue (no invented "User:/Assistant:" turns), and the ids it
// writes are exactly those of the CLI's `generate --raw` on the same prompt.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { Conversation, EventOf, Message, ModelSummary } from "../contract.js";
import { haveShared } from "../../native-models/test-support/shared-fixtures.js";
import { realBackends, sampling } from "../test-support/real-backend.js";
import { promptFor } from "./generation.js";

const start = realBackends();
const repoRoot = path.resolve(import.meta.dirname, "../..");
type Token = EventOf<"generation.token">;

describe("promptFor", () => {
  it("gives a chat model its turns and a base model one text", () => {
    const turns = [
      { role: "user" as const, content: "Once upon a time" },
      { role: "assistant" as const, content: " there was a cat." },
      { role: "user" as const, content: " The cat" },
    ];
    expect(promptFor("completion", "Be brief.", turns)).toEqual({
      prompt: "Once upon a time there was a cat. The cat",
    });
    expect(promptFor("chat", "Be brief.", turns)).toEqual({
      messages: [{ role: "system", content: "Be brief." }, ...turns],
    });
    expect(promptFor("chat", "  ", turns)).toEqual({ messages: turns });
  });
});

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "a base model in the app",
  () => {
    it(
      "continues the composer's text with the same ids as generate --raw",
      { timeout: 120_000 },
      async () => {
        const b = await start();
        const models = await b.call<ModelSummary[]>("models.list", {});
        expect(models.find((m) => m.id === b.modelId)?.mode).toBe("completion");
        await b.call("generation.setKnob", { value: 0 });
        const chat = await b.call<Conversation>("chat.create", {});
        const greedy = sampling(32, { temperature: 0, seed: null });
        await b.call("chat.update", { id: chat.id, sampling: greedy, systemPrompt: "Not part of the text." });
        const done = b.next("generation.done");
        const { assistantMessageId } = await b.call<{ assistantMessageId: string }>("chat.send", {
          conversationId: chat.id,
          text: "Once upon a time",
        });
        await done;
        const appIds = b.seen
          .filter(
            (e) => e.event === "generation.token" && (e.payload as Token).messageId === assistantMessageId,
          )
          .map((e) => (e.payload as Token).tokenId);
        expect(appIds.length).toBeGreaterThan(0);

        const { stdout } = await promisify(execFile)(
          process.execPath,
          [
            "--import",
            "tsx",
            path.join(repoRoot, "electron/cli.ts"),
            "generate",
            "--model",
            path.join(b.modelsDir, b.modelId!),
            "--prompt",
            "Once upon a time",
            "--raw",
            "--temperature",
            "0",
            "--repeat-penalty",
            String(greedy.repetitionPenalty),
            "--max-tokens",
            "32",
            "--exit",
            "off",
            "--json",
          ],
          { cwd: repoRoot },
        );
        const cliIds = stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { type: string; id?: number })
          .filter((e) => e.type === "token")
          .map((e) => e.id);
        expect(appIds).toEqual(cliIds);
        const answer = (await b.call<{ messages: Message[] }>("chat.get", { id: chat.id })).messages[1]!;
        expect(answer.content).not.toMatch(/User:|Assistant:/);
      },
    );
  },
);

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "a chat outgrowing the context",
  () => {
    it(
      "leaves out the oldest text with a note, or stops where the chat says so",
      { timeout: 120_000 },
      async () => {
        const b = await start();
        const chat = await b.call<Conversation>("chat.create", {});
        await b.call("chat.update", { id: chat.id, sampling: sampling(16, { temperature: 0, seed: null }) });
        const long = "Once upon a time there was a little dog. ".repeat(80);
        const done = b.next("generation.done");
        await b.call("chat.send", { conversationId: chat.id, text: long });
        const { stats, error } = await done;
        expect(error).toBeUndefined();
        expect(stats.tokens).toBeGreaterThan(0);
        expect(stats.droppedTokens).toBeGreaterThan(0);
        const stored = (await b.call<{ messages: Message[] }>("chat.get", { id: chat.id })).messages[1]!;
        expect(stored.stats?.droppedTokens).toBe(stats.droppedTokens);

        const strict = await b.call<Conversation>("chat.create", {});
        await b.call("chat.update", { id: strict.id, overflow: "stop" });
        const refused = b.next("generation.done");
        await b.call("chat.send", { conversationId: strict.id, text: long });
        expect(await refused).toMatchObject({
          error: expect.stringMatching(/does not fit the 512-token context/),
          errorCode: "context_full",
        });
      },
    );
  },
);
