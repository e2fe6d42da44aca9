import { describe, expect, it } from "vitest";
import { CancelledError, throwIfAborted } from "./cancel.js";

describe("throwIfAborted", () => {
  it("passes while the signal is live (or absent) and throws CancelledError once it is aborted", () => {
    const controller = new AbortController();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(CancelledError);
  });
});
