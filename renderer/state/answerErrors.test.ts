import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../wire/errors";
import { describeAnswerError } from "./answerErrors";

describe("describeAnswerError", () => {
  it("says what happened and what to do by the error's code, keeping the engine's words as detail", () => {
    const raw = "prompt of 600 tokens does not fit the 512-token context";
    expect(describeAnswerError("context_full", raw)).toEqual({
      text: expect.stringMatching(/no longer fits .* Start a new chat/),
      detail: raw,
    });
    expect(describeAnswerError("engine_crashed", "Engine exited with code 134.").text).toMatch(
      /press Regenerate/,
    );
  });

  it("recognises the failures engines report only in words", () => {
    expect(describeAnswerError("failed", "std::bad_alloc").text).toMatch(/ran out of memory/);
    expect(describeAnswerError("failed", "model m1 is not loaded").text).toMatch(/Pick it again/);
    expect(
      describeAnswerError(
        undefined,
        "the system prompt and the last message alone do not leave room for an answer in the 512-token context",
      ).text,
    ).toMatch(/no longer fits/);
  });

  it("never shows a raw engine string as the sentence, for any code", () => {
    const raw = "onnxruntime: Non-zero status code returned while running MatMul node";
    for (const code of [...ErrorCode.options, undefined]) {
      const { text, detail } = describeAnswerError(code, raw);
      expect(text).not.toContain("onnxruntime");
      expect(text).toMatch(/\.$/);
      expect(detail).toBe(raw);
    }
    expect(describeAnswerError(undefined, undefined)).toEqual({
      text: expect.stringMatching(/Press Regenerate/),
    });
  });
});
