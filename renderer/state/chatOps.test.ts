import { describe, expect, it } from "vitest";
import type { Message } from "../../electron/contract";
import {
  filterConversations,
  lastAnswer,
  localUserMessage,
  placeExchange,
  replaceFromMessage,
  replaceLastAnswer,
  touchConversation,
} from "./chatOps";
import { createStreamingMessage } from "./streamProcessor";
import { toUiMessage } from "./types";

const msg = (id: string, role: Message["role"], content = id): Message => ({
  id,
  conversationId: "c1",
  role,
  content,
  createdAt: "2025-01-01T00:00:00Z",
  exitLayers: [],
  tokenTexts: [],
  stats: null,
  modelId: null,
});

describe("chat list operations", () => {
  it("replaces the optimistic message and appends the answer", () => {
    const local = localUserMessage("c1", "hi", 1);
    const list = placeExchange(
      [toUiMessage(msg("u0", "user")), local],
      msg("u1", "user", "hi"),
      "a1",
      local.id,
      "m",
    );
    expect(list.map((m) => m.id)).toEqual(["u0", "u1", "a1"]);
    expect(list[2].streaming).toBe(true);
  });

  it("keeps an answer that started streaming before the reply, after the user message", () => {
    const local = localUserMessage("c1", "hi", 1);
    const early = { ...createStreamingMessage("c1", "a1", null), content: "Hel" };
    const list = placeExchange([local, early], msg("u1", "user", "hi"), "a1", local.id, null);
    expect(list.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(list[1].content).toBe("Hel");
  });

  it("regenerate replaces only the last answer", () => {
    const list = [msg("u1", "user"), msg("a1", "assistant"), msg("u2", "user"), msg("a2", "assistant")].map(
      toUiMessage,
    );
    expect(replaceLastAnswer(list, "c1", "a3", null).map((m) => m.id)).toEqual(["u1", "a1", "u2", "a3"]);
    // no answer yet (it failed before any token): just appends
    expect(replaceLastAnswer(list.slice(0, 3), "c1", "a3", null).map((m) => m.id)).toEqual([
      "u1",
      "a1",
      "u2",
      "a3",
    ]);
  });

  it("regenerate lists the answer before among the new one's versions (not an empty one)", () => {
    const list = [msg("u1", "user"), msg("a1", "assistant")].map(toUiMessage);
    const second = replaceLastAnswer(list, "c1", "a2", null);
    expect(second[1]).toMatchObject({ id: "a2", streaming: true, versions: ["a1", "a2"] });
    const third = replaceLastAnswer(
      [list[0], { ...second[1], content: "Hi", streaming: false }],
      "c1",
      "a3",
      null,
    );
    expect(third[1].versions).toEqual(["a1", "a2", "a3"]);
    const afterEmpty = replaceLastAnswer([list[0], { ...second[1], content: "" }], "c1", "a3", null);
    expect(afterEmpty[1].versions).toEqual(["a1", "a3"]);
    expect(replaceLastAnswer([list[0]], "c1", "a9", null)[1].versions).toBeUndefined();
  });

  it("edit drops everything from the edited message on", () => {
    const list = [msg("u1", "user"), msg("a1", "assistant"), msg("u2", "user"), msg("a2", "assistant")].map(
      toUiMessage,
    );
    const next = replaceFromMessage(list, "u2", msg("u3", "user", "edited"), "a3", null);
    expect(next.map((m) => m.id)).toEqual(["u1", "a1", "u3", "a3"]);
    expect(next[2].content).toBe("edited");
    expect(lastAnswer(next)?.id).toBe("a3");
    expect(lastAnswer([])).toBeNull();
  });

  it("moves a touched conversation to the top and filters locally", () => {
    const list = [
      { id: "a", title: "Alpha", updatedAt: "", modelId: null, preview: "" },
      { id: "b", title: "Beta", updatedAt: "", modelId: null, preview: "about llamas" },
    ];
    const touched = touchConversation(list, "b", "new text", new Date("2025-01-02T00:00:00Z"));
    expect(touched.map((c) => c.id)).toEqual(["b", "a"]);
    expect(touched[0].preview).toBe("new text");
    expect(touchConversation(list, "zz", "x")).toBe(list);
    expect(filterConversations(list, "LLAMA").map((c) => c.id)).toEqual(["b"]);
    expect(filterConversations(list, " ")).toBe(list);
  });
});
