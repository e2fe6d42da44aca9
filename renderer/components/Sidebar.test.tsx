// @vitest-environment jsdom
import "../test/setup";
import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { Sidebar } from "./Sidebar";

const list = () => within(screen.getByRole("list", { name: "Conversations" }));

describe("the conversation list", () => {
  it("shows a new chat's title as soon as the first message names it, and never 'No messages yet' for a chat with messages", async () => {
    const api = createFakeApi();
    const { store } = await renderWithStore(<Sidebar />, api);
    await act(async () => void (await store.getState().newConversation()));
    expect(list().getByText("New chat")).toBeTruthy();
    await act(async () => void (await store.getState().send("Once upon a time there was a dog")));
    const item = list().getAllByRole("listitem")[0];
    expect(
      within(item).getByText("Once upon a time there was a dog", { selector: ".conversation-title" }),
    ).toBeTruthy();

    // The answer fails before its first token: the chat still has the user's message.
    const { conversationId, messageId } = store.getState().generation!;
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
        error: "boom",
      }),
    );
    expect(list().queryByText("No messages yet")).toBeNull();
    expect(
      within(item).getByText("Once upon a time there was a dog", { selector: ".conversation-preview" }),
    ).toBeTruthy();
  });

  it("shows each search result's matching words with the match marked", async () => {
    const api = createFakeApi({
      conversations: [
        { title: "Park", messages: [["user", "Lily found a red Balloon in the park"]] },
        { title: "Dogs", messages: [["user", "A dog"]] },
      ],
    });
    const { store } = await renderWithStore(<Sidebar />, api);
    await act(async () => {
      store.getState().setSearchQuery("Balloon");
      await store.getState().refreshConversations();
    });
    const snippet = list().getByTestId("search-snippet");
    expect(snippet.textContent).toBe("Lily found a red Balloon in the park");
    expect([...snippet.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Balloon"]);
    expect(list().queryByText("Dogs")).toBeNull();
  });
});
