import { describe, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { hostError } from "./engine-methods.js";

describe("hostError", () => {
  it("reports a CancelledError from any layer as cancelled, and nothing else", () => {
    expect(hostError(new CancelledError())).toMatchObject({ code: "cancelled" });
    // An error that only looks like a cancel (by name) is a failure: cancels are CancelledError.
    expect(hostError(Object.assign(new Error("x"), { name: "AbortError" }))).toMatchObject({
      code: "failed",
    });
  });
});
