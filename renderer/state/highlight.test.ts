import { describe, expect, it } from "vitest";
import { highlightParts } from "./highlight";

describe("highlightParts", () => {
  it("marks every match, whatever its case, and keeps the text around it", () => {
    expect(highlightParts("…a red Balloon and a balloon…", "balloon")).toEqual([
      { text: "…a red ", match: false },
      { text: "Balloon", match: true },
      { text: " and a ", match: false },
      { text: "balloon", match: true },
      { text: "…", match: false },
    ]);
    expect(highlightParts("nothing here", "  ")).toEqual([{ text: "nothing here", match: false }]);
    expect(highlightParts("cat", "dog")).toEqual([{ text: "cat", match: false }]);
  });
});
