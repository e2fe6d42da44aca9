import { describe, expect, it } from "vitest";
import { createFakeApi } from "../../test/fakeApi";
import { setupStore as setup } from "../../test/storeSetup";

describe("conversations slice", () => {
  it("renames and deletes conversations; deleting the open one opens the next", async () => {
    const api = createFakeApi({ conversations: [{ title: "Older" }, { title: "Newer" }] });
    const { s } = await setup(api);
    expect(s().conversation?.title).toBe("Newer");
    await s().renameConversation(s().activeId!, "  Renamed  ");
    expect(s().conversations[0].title).toBe("Renamed");
    await s().deleteConversation(s().activeId!);
    expect(s().conversations.map((c) => c.title)).toEqual(["Older"]);
    expect(s().conversation?.title).toBe("Older");
  });
  it("searches conversations through the back end", async () => {
    const api = createFakeApi({
      conversations: [{ title: "Cats", messages: [["user", "tell me about llamas"]] }, { title: "Dogs" }],
    });
    const { s } = await setup(api);
    s().setSearchQuery("llamas");
    await s().refreshConversations();
    expect(s().conversations.map((c) => c.title)).toEqual(["Cats"]);
    expect(api.calls.at(-1)).toEqual({ channel: "chat.list", payload: { query: "llamas" } });
  });
});
