import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../tokenizer/chat-template.js";
import { answerReserve, fitMessages, fitRaw } from "./context-fit.js";

// One "token" per character plus two per message, like a template's markers.
const encode = (ms: readonly ChatMessage[]) => ms.flatMap((m) => [0, ...[...m.content].map(() => 1), 0]);

describe("context fit", () => {
  const chat: ChatMessage[] = [
    { role: "system", content: "sys" },
    { role: "user", content: "aaaa" },
    { role: "assistant", content: "bbbb" },
    { role: "user", content: "cc" },
  ];

  it("keeps everything that fits", () => {
    expect(fitMessages(chat, encode, 100)).toMatchObject({ dropped: 0 });
  });

  it("drops the oldest turns first, keeps the system prompt, never starts with the model's words", () => {
    const fitted = fitMessages(chat, encode, 12)!;
    // Dropping one message would leave an assistant turn first: two go.
    expect(fitted.dropped).toBe(2);
    expect(fitted.ids).toEqual(encode([chat[0]!, chat[3]!]));
  });

  it("gives up when the system prompt and the newest message alone do not fit", () => {
    expect(fitMessages(chat, encode, 5)).toBeNull();
  });

  it("keeps a base model's newest tokens and its beginning-of-text token", () => {
    expect(fitRaw([9, 1, 2, 3, 4, 5], 4, 9)).toEqual({ ids: [9, 3, 4, 5], dropped: 2 });
    expect(fitRaw([1, 2, 3], 4, 9)).toEqual({ ids: [1, 2, 3], dropped: 0 });
  });

  it("reserves at most a quarter of the context for the answer", () => {
    expect(answerReserve(512, 512)).toBe(128);
    expect(answerReserve(64, 2048)).toBe(64);
  });
});
