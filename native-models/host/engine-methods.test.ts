import { describe, expect, it } from "vitest";
import { CancelledError } from "../formats/cancel.js";
import { ModelFormatError } from "../formats/errors.js";
import { hostError, staleness } from "./engine-methods.js";
import { DECODE_REVISION } from "../engine/decode-revision.js";
import type { Manifest } from "../package/manifest.js";

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

describe("toSummary", () => {
  it("says how many bytes of K/V cache each token of context takes (float32, every layer)", async () => {
    const { toSummary } = await import("./engine-methods.js");
    const manifest = {
      id: "m",
      name: "m",
      params: 260_000,
      quant: "f32",
      sizeBytes: 1_000_000,
      createdAt: "2025-01-01T00:00:00.000Z",
      config: { arch: "llama", numLayers: 5, numKvHeads: 4, headDim: 8, contextLength: 512 },
      source: { format: "gguf", path: "/x/stories.gguf" },
      tokenizer: { chatTemplate: true },
    } as unknown as Parameters<typeof toSummary>[0];
    // stories260K's shape: 2 (K and V) x 5 layers x 4 KV heads x 8 dims x 4 bytes.
    expect(toSummary(manifest).kvBytesPerToken).toBe(1280);
  });
});

describe("staleness", () => {
  const calibrated = (calibration: Record<string, unknown>, native = true) =>
    ({
      calibration: { file: "predictors.json", curve: [], seconds: 1, ...calibration },
      ...(native ? { native: {} } : {}),
    }) as unknown as Manifest;

  it("holds a calibration this engine measured on the kernels that run the model", () => {
    const m = calibrated({ kernels: "native avx2", decodeRevision: DECODE_REVISION });
    expect(staleness(m, true)).toEqual({});
    // Measured on onnxruntime where the kernels still cannot load: it describes what runs.
    expect(
      staleness(calibrated({ kernels: "onnxruntime MatMulNBits", decodeRevision: DECODE_REVISION }), false),
    ).toEqual({});
  });

  it("marks one measured on onnxruntime once the native kernels run the model", () => {
    const m = calibrated({ kernels: "onnxruntime MatMulNBits", decodeRevision: DECODE_REVISION });
    expect(staleness(m, true).stale).toBe(
      "measured on onnxruntime MatMulNBits; the native kernels run this model now",
    );
  });

  it("marks one measured by an engine whose decode speeds have changed since", () => {
    const stale = "measured by an earlier version of the engine, whose speeds have changed since";
    // Calibrations from before the revision was recorded are revision 1.
    expect(staleness(calibrated({ kernels: "native avx2" }), true).stale).toBe(stale);
    expect(
      staleness(calibrated({ kernels: "native avx2", decodeRevision: DECODE_REVISION - 1 }), true).stale,
    ).toBe(stale);
    expect(staleness(calibrated({ kernels: "onnxruntime MatMulNBits" }, false), false).stale).toBe(stale);
    expect(staleness({} as Manifest)).toEqual({});
  });
});
