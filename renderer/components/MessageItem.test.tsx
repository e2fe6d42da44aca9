// @vitest-environment jsdom
import "../test/setup";
import { act, fireEvent, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeApi, manualScheduler } from "../test/fakeApi";
import { fakeRowHeight, fakeViewport, renderWithStore } from "../test/render";
import { createAppStore } from "../state/store";
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

describe("a regenerated answer", () => {
  it("keeps the answer before reachable with 1/2, 2/2 arrows, also after a reload", async () => {
    const api = createFakeApi({
      conversations: [
        {
          title: "Story",
          messages: [
            ["user", "Tell me a story"],
            ["assistant", "Once upon a time"],
          ],
        },
      ],
    });
    const { store, frames } = await renderWithStore(<MessageList />, api);
    const [, first] = store.getState().messages;
    await act(async () => void (await store.getState().regenerate()));
    const { conversationId, messageId } = store.getState().generation!;
    act(() => {
      api.streamTokens(conversationId, messageId, ["A", " dog"]);
      frames.runFrame();
      api.finish(conversationId, messageId);
    });
    const article = (id: string) =>
      within(document.querySelector(`article[data-message-id="${id}"]`) as HTMLElement);
    expect(article(messageId).getByTestId("answer-version").textContent).toBe("2/2");
    expect(article(messageId).getByRole("button", { name: "Next version" }).hasAttribute("disabled")).toBe(
      true,
    );

    await act(async () =>
      fireEvent.click(article(messageId).getByRole("button", { name: "Previous version" })),
    );
    expect(store.getState().messages.map((m) => m.content)).toEqual(["Tell me a story", "Once upon a time"]);
    expect(article(first.id).getByTestId("answer-version").textContent).toBe("1/2");
    expect(api.calls.at(-1)).toEqual({
      channel: "chat.showVersion",
      payload: { conversationId, messageId: first.id },
    });

    // A fresh window (a reload) gets the versions from the back end.
    const reloaded = createAppStore(api, { scheduler: manualScheduler().schedule });
    await reloaded.getState().init();
    expect(reloaded.getState().messages[1]).toMatchObject({ id: first.id, versions: [first.id, messageId] });
  });
});
