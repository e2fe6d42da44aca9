// @vitest-environment jsdom
import "../test/setup";
import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "../../electron/contract";
import { createFakeApi } from "../test/fakeApi";
import { fakeRowHeight, fakeViewport, renderWithStore } from "../test/render";
import { toUiMessage } from "../state/types";
import { MessageList } from "./MessageList";

let restore: (() => void)[] = [];
beforeEach(() => {
  restore = [fakeViewport("message-scroller", 800), fakeRowHeight("message-row", 120)];
});
afterEach(() => restore.forEach((r) => r()));

function longConversation(n: number) {
  const messages: Message[] = [];
  for (let i = 0; i < n; i++) {
    const assistant = i % 2 === 1;
    const text = assistant
      ? `Answer number ${i} with some **markdown** and \`code\`.`
      : `Question number ${i}?`;
    messages.push({
      id: `m${i}`,
      conversationId: "c1",
      role: assistant ? "assistant" : "user",
      content: text,
      createdAt: "2025-01-01T00:00:00Z",
      exitLayers: assistant ? text.split(" ").map((_, k) => 1 + (k % 5)) : [],
      tokenTexts: assistant ? text.split(/(?<= )/) : [],
      stats: assistant
        ? {
            tokens: 8,
            tokensPerSecond: 40,
            timeToFirstTokenMs: 20,
            meanExitLayer: 3,
            layers: 5,
            stopReason: "eos",
          }
        : null,
      modelId: assistant ? "stories260k" : null,
    });
  }
  return messages;
}

describe("virtualised message list", () => {
  it("renders a bounded number of rows for a 2,000-message conversation", async () => {
    const { store } = await renderWithStore(<MessageList />, createFakeApi(), false);
    const messages = longConversation(2000);
    const started = performance.now();
    await act(async () => store.setState({ activeId: "c1", messages: messages.map(toUiMessage) }));
    const elapsed = performance.now() - started;
    // let the follow-the-end frame run
    await act(async () => {
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    });

    const log = screen.getByRole("log", { name: "Messages" });
    expect(log.dataset.count).toBe("2000");
    const rows = log.querySelectorAll(".message-row");
    // 800 px viewport / 160 px estimated rows + overscan: a couple of dozen at most, never thousands
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(30);
    expect(document.querySelectorAll("article.message").length).toBe(rows.length);
    // the list starts at the end of the conversation
    const indexes = [...rows].map((r) => Number((r as HTMLElement).dataset.index));
    expect(Math.max(...indexes)).toBe(1999);
    // the total height stands for every message, so the scrollbar is honest
    expect(parseFloat((log as HTMLElement).style.height)).toBeGreaterThan(2000 * 100);
    expect(elapsed).toBeLessThan(3000);
  });

  it("stays bounded while an answer streams into a long conversation", async () => {
    const { store } = await renderWithStore(<MessageList />, createFakeApi(), false);
    const messages = longConversation(2000).map(toUiMessage);
    await act(async () => store.setState({ activeId: "c1", messages }));
    const last = {
      ...messages[1999],
      id: "streaming",
      streaming: true,
      stats: null,
      content: "",
      exitLayers: [],
      tokenTexts: [],
    };
    await act(async () => store.setState({ messages: [...messages, last] }));
    for (let i = 0; i < 50; i++) {
      await act(async () =>
        store.getState().applyTokenBatch([
          {
            conversationId: "c1",
            messageId: "streaming",
            index: i,
            tokenId: i,
            text: `w${i} `,
            exitLayer: 1 + (i % 5),
            ms: 5,
          },
        ]),
      );
    }
    await act(async () => {
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    });
    const log = screen.getByRole("log", { name: "Messages" });
    expect(log.querySelectorAll(".message-row").length).toBeLessThanOrEqual(30);
    const streaming = log.querySelector('[data-message-id="streaming"]');
    expect(streaming?.textContent).toContain("w49");
    expect(streaming?.getAttribute("data-streaming")).toBe("true");
  });
});
