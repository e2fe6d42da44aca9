import { describe, expect, it } from "vitest";
import { ApiError, rejectWithApiError, rejectWithData, WireError } from "./errors";

/** What Electron's context bridge does to a rejection: copies data, and only the message of an Error. */
const acrossBridge = <T>(work: Promise<T>) =>
  work.catch((error: unknown) => {
    throw error instanceof Error ? new Error(error.message) : structuredClone(error);
  });

describe("ApiError", () => {
  it("keeps its code, detail and channel across a boundary that copies only data", async () => {
    const sent = new ApiError("model_format", "not a GGUF file", {
      channel: "models.importPath",
      detail: { formatCode: "bad_magic", file: "/m/x.gguf" },
    });
    const received = rejectWithApiError(acrossBridge(rejectWithData(Promise.reject(sent))));
    await expect(received).rejects.toBeInstanceOf(ApiError);
    await expect(received).rejects.toMatchObject({
      code: "model_format",
      message: "not a GGUF file",
      channel: "models.importPath",
      detail: { formatCode: "bad_magic", file: "/m/x.gguf" },
    });
    // Without the data step, the bridge leaves a bare message.
    await expect(acrossBridge(Promise.reject(sent))).rejects.not.toHaveProperty("code");
    // Rejections that are not ApiErrors pass as they are.
    const plain = new Error("boom");
    await expect(rejectWithApiError(rejectWithData(Promise.reject(plain)))).rejects.toBe(plain);
  });

  it("is made from the wire's error shape, which refuses unknown codes", () => {
    const wire = WireError.parse({
      code: "engine_crashed",
      message: "The engine process stopped unexpectedly.",
    });
    expect(ApiError.fromWire(wire, "chat.send")).toMatchObject({
      code: "engine_crashed",
      channel: "chat.send",
    });
    expect(WireError.safeParse({ code: "exploded", message: "?" }).success).toBe(false);
    expect(
      WireError.safeParse({ code: "model_format", message: "?", detail: { formatCode: "nope" } }).success,
    ).toBe(false);
  });
});
