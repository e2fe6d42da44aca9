import { describe, expect, it } from "vitest";
import { splitMarkdownBlocks } from "./markdownBlocks";

describe("markdown blocks", () => {
  it("splits at blank lines", () => {
    expect(splitMarkdownBlocks("One\ntwo\n\nThree\n\n\n- a\n- b")).toEqual(["One\ntwo", "Three", "- a\n- b"]);
    expect(splitMarkdownBlocks("")).toEqual([]);
    expect(splitMarkdownBlocks("\n\n")).toEqual([]);
  });

  it("never splits inside fenced code, even across blank lines or while the fence is still open", () => {
    const text = "Intro\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\n\nAfter";
    expect(splitMarkdownBlocks(text)).toEqual(["Intro", "```js\nconst a = 1;\n\nconst b = 2;\n```", "After"]);
    // streaming: the closing fence has not arrived yet
    expect(splitMarkdownBlocks("Intro\n\n```py\nx = 1\n\ny = 2")).toEqual(["Intro", "```py\nx = 1\n\ny = 2"]);
    // a shorter or different fence does not close a longer one
    expect(splitMarkdownBlocks("````\n```\n\nstill code\n````\n\nout")).toEqual([
      "````\n```\n\nstill code\n````",
      "out",
    ]);
    expect(splitMarkdownBlocks("~~~\n```\n\ncode\n~~~\n\nout")).toEqual(["~~~\n```\n\ncode\n~~~", "out"]);
  });

  it("keeps earlier blocks identical as text streams in (so their rendering is reused)", () => {
    const full = "Para one.\n\nPara two is longer.\n\n- item";
    let previous: string[] = [];
    for (let n = 1; n <= full.length; n++) {
      const blocks = splitMarkdownBlocks(full.slice(0, n));
      // every block except the last is final
      for (let i = 0; i < previous.length - 1; i++) expect(blocks[i]).toBe(previous[i]);
      previous = blocks;
    }
    expect(previous).toEqual(["Para one.", "Para two is longer.", "- item"]);
  });

  it("does not split text that uses reference-style links", () => {
    const text = "See [the docs][d].\n\n[d]: https://example.com";
    expect(splitMarkdownBlocks(text)).toEqual([text]);
  });
});
