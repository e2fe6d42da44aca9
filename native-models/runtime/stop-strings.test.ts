import { describe, expect, it } from "vitest";
import { StopStringFilter } from "./stop-strings.js";

describe("StopStringFilter", () => {
  it("passes text through when there are no stop strings", () => {
    const f = new StopStringFilter([]);
    expect(f.push("hello")).toEqual({ text: "hello", stopped: false });
  });

  it("holds back a possible stop-string prefix and cuts at the stop string", () => {
    const f = new StopStringFilter(["</s>", "\nUser:"]);
    expect(f.push("Hi there\nUs")).toEqual({ text: "Hi there", stopped: false });
    expect(f.push("er: next")).toEqual({ text: "", stopped: true });
  });

  it("releases held text when it turns out not to be a stop string", () => {
    const f = new StopStringFilter(["\nUser:"]);
    expect(f.push("a\nU")).toEqual({ text: "a", stopped: false });
    expect(f.push("mbrella")).toEqual({ text: "\nUmbrella", stopped: false });
    expect(f.push("\n")).toEqual({ text: "", stopped: false });
    expect(f.flush()).toBe("\n");
  });
});
