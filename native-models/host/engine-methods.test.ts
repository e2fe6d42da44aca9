import { describe, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { ModelFormatError } from "../formats/errors.js";
import { hostError } from "./engine-methods.js";

describe("hostError", () => {
  it("reports a CancelledError from any layer as cancelled, and nothing else", () => {
    expect(hostError(new CancelledError())).toMatchObject({ code: "cancelled" });
    // An error that only looks like a cancel (by name) is a failure: cancels are CancelledError.
    expect(hostError(Object.assign(new Error("x"), { name: "AbortError" }))).toMatchObject({
      code: "failed",
    });
  });

  it("keeps a reader's code and file as model_format detail", () => {
    const error = hostError(
      new ModelFormatError("truncated", "file ended while reading metadata", "/m/x.gguf"),
    );
    expect(error).toMatchObject({
      code: "model_format",
      message: "file ended while reading metadata (/m/x.gguf)",
      detail: { formatCode: "truncated", file: "/m/x.gguf" },
    });
    expect(hostError(new ModelFormatError("bad_config", "no file named")).detail).toEqual({
      formatCode: "bad_config",
    });
  });
});
