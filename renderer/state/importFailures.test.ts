import { describe, expect, it } from "vitest";
import type { ImportJob } from "../../electron/contract";
import { ModelFormatErrorCode } from "../../wire/errors";
import { jobDetail, jobMessage } from "./importJobs";

const failed = (over: Partial<ImportJob> = {}): ImportJob => ({
  jobId: "j1",
  source: "/tmp/uploads/1234/x.gguf",
  stage: "read",
  progress: 0,
  state: "failed",
  error: "not a recognised model format (/tmp/uploads/1234/x.gguf)",
  ...over,
});
const format = (formatCode: ModelFormatErrorCode) =>
  failed({ errorCode: "model_format", errorDetail: { formatCode, file: "/tmp/uploads/1234/x.gguf" } });

describe("a failed import's message", () => {
  it("says what the reader's code means, naming the file, and keeps the engine's words as the detail", () => {
    expect(jobMessage(format("unknown_format"))).toBe("This file is not a model Exitlane can read (x.gguf).");
    expect(jobMessage(format("bad_magic"))).toBe("This file is not a model Exitlane can read (x.gguf).");
    expect(jobMessage(format("truncated"))).toBe(
      "The file is incomplete — was the download interrupted? (x.gguf)",
    );
    expect(jobMessage(format("unsupported_architecture"))).toMatch(/architecture is not supported yet/);
    expect(jobDetail(format("truncated"))).toBe("not a recognised model format (/tmp/uploads/1234/x.gguf)");
  });

  it("has a sentence for every code the readers use", () => {
    for (const code of ModelFormatErrorCode.options) expect(jobMessage(format(code))).toContain("x.gguf");
  });

  it("says the engine crashed by its code, and falls back to the engine's words otherwise", () => {
    expect(
      jobMessage(failed({ errorCode: "engine_crashed", error: "The engine process stopped unexpectedly." })),
    ).toMatch(/engine stopped unexpectedly while importing x\.gguf.*try again/);
    expect(jobMessage(failed({ errorCode: "failed", error: "out of memory" }))).toBe("out of memory");
    expect(jobDetail(failed({ errorCode: "failed", error: "out of memory" }))).toBeNull();
  });

  it("says a file is already in the library", () => {
    expect(
      jobMessage(failed({ errorCode: "already_imported", errorDetail: { modelId: "stories260k-int8" } })),
    ).toMatch(/^x\.gguf is already in your library/);
  });
});
