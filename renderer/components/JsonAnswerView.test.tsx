// @vitest-environment jsdom
import "../test/setup";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { JsonAnswerView, jsonShape } from "./JsonAnswerView";

describe("answers that are JSON", () => {
  it("tells a function call, other JSON and prose apart", () => {
    expect(jsonShape('{"name":"find_verse","arguments":{"book":"Ruth"}}')).toEqual({
      kind: "call",
      name: "find_verse",
      arguments: { book: "Ruth" },
    });
    expect(jsonShape(' {"mood":"happy","count":3} ')).toEqual({
      kind: "json",
      value: { mood: "happy", count: 3 },
    });
    expect(jsonShape("[1,2]")).toEqual({ kind: "json", value: [1, 2] });
    expect(jsonShape('{"name":"x","arguments":{},"extra":1}')).toMatchObject({ kind: "json" });
    expect(jsonShape("Once upon a time {there} was")).toBeNull();
    expect(jsonShape('{"unfinished": ')).toBeNull();
    expect(jsonShape("{not json}")).toBeNull();
  });

  it("shows a call as the function's name and its arguments, indented", () => {
    render(<JsonAnswerView shape={jsonShape('{"name":"find_verse","arguments":{"book":"Ruth"}}')!} />);
    const call = screen.getByTestId("tool-call");
    expect(call.textContent).toContain("Tool call");
    expect(call.querySelector("code")!.textContent).toBe("find_verse");
    expect(call.querySelector("pre")!.textContent).toBe('{\n  "book": "Ruth"\n}');
  });
});
