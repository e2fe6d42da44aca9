import { describe, expect, it } from "vitest";
import { ApiError, DownloadErrorCode } from "../../wire/errors";
import { makeDownload } from "../test/fakeApi";
import {
  downloadErrorMessage,
  downloadFailure,
  downloadPercent,
  requestFailure,
  upsertDownload,
} from "./downloads";

describe("download failures in plain words", () => {
  it("has a sentence for every download code, naming what it concerns", () => {
    for (const code of DownloadErrorCode.options)
      expect(downloadErrorMessage(code, "x.gguf")).toContain("x.gguf");
  });

  it("picks the sentence by the code, not the message, and falls back to the back end's words", () => {
    expect(downloadErrorMessage("not_found", "a/b")).toBe(
      "Hugging Face has no such repository or file (a/b). Check the spelling.",
    );
    expect(downloadErrorMessage("unauthorized", "a/b")).toMatch(/needs a Hugging Face access token/);
    expect(downloadErrorMessage("disk_full", "m.gguf")).toMatch(/not enough free disk space/);
    expect(
      downloadFailure(
        makeDownload({ state: "failed", error: "403 gated", errorDetail: { downloadCode: "not_found" } }),
      ),
    ).toMatch(
      /^Hugging Face has no such repository or file \(exitlane-test\/stories260K-GGUF\/stories260K-f32\.gguf\)/,
    );
    expect(
      downloadFailure(
        makeDownload({ state: "failed", errorDetail: { downloadCode: "gated", httpStatus: 403 } }),
      ),
    ).toMatch(/^exitlane-test\/stories260K-GGUF is a gated model/);
    expect(downloadFailure(makeDownload({ state: "failed", error: "socket hang up" }))).toBe(
      "socket hang up",
    );
  });

  it("words a rejected request by its ApiError's download code", () => {
    const err = new ApiError("download", "HTTP 401", {
      detail: { downloadCode: "unauthorized", httpStatus: 401 },
    });
    expect(requestFailure(err, "a/b")).toEqual({
      code: "unauthorized",
      message: downloadErrorMessage("unauthorized", "a/b"),
    });
    expect(requestFailure(new Error("offline"), "a/b")).toEqual({ message: "offline" });
  });
});

describe("download jobs", () => {
  it("replaces a job by id and puts new ones first", () => {
    const a = makeDownload({ jobId: "a" });
    const b = makeDownload({ jobId: "b" });
    const list = upsertDownload(upsertDownload([], a), b);
    expect(list.map((j) => j.jobId)).toEqual(["b", "a"]);
    expect(upsertDownload(list, { ...a, receivedBytes: 5 }).find((j) => j.jobId === "a")?.receivedBytes).toBe(
      5,
    );
  });

  it("measures progress by bytes, then by the import job while importing", () => {
    expect(downloadPercent(makeDownload({ receivedBytes: 0, totalBytes: 0 }))).toBe(0);
    expect(downloadPercent(makeDownload({ receivedBytes: 296_250 }))).toBe(25);
    const importing = makeDownload({ state: "importing", receivedBytes: 1_185_000 });
    expect(downloadPercent(importing)).toBe(0);
    expect(
      downloadPercent(importing, {
        jobId: "i",
        source: "s",
        stage: "write",
        progress: 0.7,
        state: "running",
      }),
    ).toBe(70);
    expect(downloadPercent(makeDownload({ state: "done" }))).toBe(100);
  });
});
