import { describe, expect, it } from "vitest";
import { distinctTitle, snippetAround, titleFrom } from "./conversation-text.js";

describe("conversation titles", () => {
  it("takes the first line, shortened, and numbers a title already taken", () => {
    expect(titleFrom("  Once upon a time\nthere was", "New chat")).toBe("Once upon a time");
    expect(titleFrom("x".repeat(80), "New chat")).toBe(`${"x".repeat(57)}…`);
    expect(titleFrom("   ", "New chat")).toBe("New chat");
    expect(distinctTitle("Story", new Set())).toBe("Story");
    expect(distinctTitle("Story", new Set(["Story", "Story (2)"]))).toBe("Story (3)");
  });
});

describe("search snippets", () => {
  it("shows the words around the first match, cut at spaces, on one line", () => {
    const text = `${"Lily went to the park with her mum. ".repeat(3)}There she found a shiny\nred BALLOON in a tree. ${"They played all day. ".repeat(6)}`;
    const snippet = snippetAround(text, "balloon")!;
    expect(snippet).toMatch(/^…\S/);
    expect(snippet).toMatch(/…$/);
    expect(snippet).toContain("red BALLOON in a tree");
    expect(snippet).not.toContain("\n");
    expect(snippet.length).toBeLessThan(150);
    expect(snippetAround("A short answer", "short")).toBe("A short answer");
    expect(snippetAround("A short answer", "long")).toBeUndefined();
  });
});
