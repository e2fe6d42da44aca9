// @vitest-environment jsdom
import "../test/setup";
import { act, fireEvent, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { fakeRowHeight, fakeViewport, renderWithStore } from "../test/render";
import { MessageList } from "./MessageList";

let restore: (() => void)[] = [];
beforeEach(() => {
  restore = [fakeViewport("message-scroller", 800), fakeRowHeight("message-row", 120)];
});
afterEach(() => restore.forEach((r) => r()));

describe("an answer that failed", () => {
  it("says in plain words what to do, with the engine's own words folded away beneath", async () => {
    const api = createFakeApi({ conversations: [{ title: "Story", messages: [["user", "hi"]] }] });
    const { store } = await renderWithStore(<MessageList />, api);
    await act(async () => void (await store.getState().send("A very long story")));
    const { conversationId, messageId } = store.getState().generation!;
    const raw = "prompt of 700 tokens does not fit the 512-token context";
    act(() =>
      api.emit("generation.done", {
        conversationId,
        messageId,
        stats: {
          tokens: 0,
          tokensPerSecond: 0,
          timeToFirstTokenMs: 0,
          meanExitLayer: 0,
          layers: 5,
          stopReason: "error",
        },
        error: raw,
        errorCode: "context_full",
      }),
    );
    const answer = within(document.querySelector(`article[data-message-id="${messageId}"]`) as HTMLElement);
    const shown = answer.getByTestId("answer-error");
    const sentence = within(shown).getByText(/no longer fits in the model's memory/);
    expect(sentence.textContent).not.toContain(raw);
    expect(sentence.textContent).toMatch(/Start a new chat/);
    const details = shown.querySelector("details")!;
    expect(details.open).toBe(false);
    fireEvent.click(within(shown).getByText("What the engine said"));
    expect(within(shown).getByText(raw)).toBeTruthy();
    expect(store.getState().toasts.at(-1)?.text).toBe(sentence.textContent);
  });
});
