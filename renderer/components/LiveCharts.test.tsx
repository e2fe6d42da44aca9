// @vitest-environment jsdom
import "../test/setup";
import { act, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { fakeRowHeight, fakeViewport, renderWithStore } from "../test/render";
import { LiveCharts } from "./LiveCharts";
import { MessageList } from "./MessageList";

let restore: (() => void)[] = [];
beforeEach(() => {
  restore = [fakeViewport("message-scroller", 800), fakeRowHeight("message-row", 120)];
});
afterEach(() => restore.forEach((r) => r()));

describe("answer statistics", () => {
  it("are the same in the streaming message and in the side panel, frame after frame", async () => {
    const api = createFakeApi({ conversations: [{ title: "Story", messages: [["user", "hi"]] }] });
    const { store, frames } = await renderWithStore(
      <>
        <MessageList />
        <LiveCharts />
      </>,
      api,
    );
    await act(async () => void (await store.getState().send("Tell me a story")));
    const { conversationId, messageId } = store.getState().generation!;
    const words = (n: number) => Array.from({ length: n }, (_, i) => ` w${i}`);

    const answer = () => within(document.querySelector(`article[data-message-id="${messageId}"]`)!);
    const agree = (tokens: number) => {
      expect(answer().getByTestId("stat-tokens").textContent).toBe(String(tokens));
      expect(screen.getByTestId("chart-tokens").textContent).toBe(String(tokens));
      expect(screen.getByTestId("chart-rate").textContent).toBe(
        answer().getByTestId("stat-rate").textContent,
      );
    };
    // Several frames in quick succession, at changing speeds (the charts redraw less often).
    for (const [n, ms] of [
      [10, 5],
      [30, 2],
      [25, 4],
    ]) {
      act(() => {
        api.streamTokens(conversationId, messageId, words(n), { ms });
        frames.runFrame();
      });
    }
    agree(65);
    expect(screen.getByText(/tokens so far/)).toBeTruthy();
    act(() => api.finish(conversationId, messageId));
    agree(65);
  });
});
