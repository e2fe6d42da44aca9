import { describe, expect, it } from "vitest";
import type { ImportJob } from "../../electron/contract";
import { jobMessage, overallProgress, precheckGroup, sourceName, stageStates, upsertJob } from "./importJobs";

const job = (over: Partial<ImportJob> = {}): ImportJob => ({
  jobId: "j1",
  source: "/tmp/up/stories260K.gguf",
  stage: "read",
  progress: 0,
  state: "running",
  ...over,
});
const file = (name: string) => new File(["x"], name);

describe("import jobs", () => {
  it("derives each stage's state", () => {
    // An import: read, convert, quantize, write (its calibration is a job of its own).
    expect(stageStates(job({ stage: "quantize", progress: 0.5 })).map((s) => s.state)).toEqual([
      "done",
      "done",
      "active",
      "pending",
    ]);
    expect(stageStates(job({ stage: "convert", state: "failed" })).map((s) => s.state)).toEqual([
      "done",
      "failed",
      "pending",
      "pending",
    ]);
    expect(stageStates(job({ stage: "write", state: "done" })).every((s) => s.state === "done")).toBe(true);
    expect(stageStates(job({ stage: "calibrate", progress: 0.4 }))).toEqual([
      { stage: "calibrate", state: "active", progress: 0.4 },
    ]);
  });
  it("computes overall progress over the job's stages", () => {
    expect(overallProgress(job())).toBe(0);
    expect(overallProgress(job({ stage: "convert", progress: 0.5 }))).toBeCloseTo(0.375);
    expect(overallProgress(job({ state: "done" }))).toBe(1);
    expect(overallProgress(job({ progress: 7 }))).toBeCloseTo(0.25);
    expect(overallProgress(job({ stage: "calibrate", progress: 0.4 }))).toBeCloseTo(0.4);
  });
  it("upserts, never reviving a finished job", () => {
    let list = upsertJob([], job());
    list = upsertJob(list, job({ stage: "convert" }));
    expect(list).toHaveLength(1);
    expect(list[0].stage).toBe("convert");
    list = upsertJob(list, job({ state: "failed", error: "bad magic" }));
    expect(upsertJob(list, job({ stage: "write" }))).toBe(list);
  });
  it("names sources and explains outcomes in words", () => {
    expect(sourceName("/tmp/x/y/model.gguf")).toBe("model.gguf");
    expect(sourceName("C:\\models\\hf-folder\\")).toBe("hf-folder");
    expect(jobMessage(job({ state: "failed", error: "model.gguf is not a GGUF file (bad magic)." }))).toBe(
      "model.gguf is not a GGUF file (bad magic).",
    );
    expect(jobMessage(job({ state: "failed" }))).toMatch(/stories260K.gguf failed/);
    expect(jobMessage(job({ state: "cancelled" }))).toMatch(/Nothing was added/);
    expect(jobMessage(job())).toBeNull();
  });
  it("refuses drops that cannot be models before uploading", () => {
    expect(precheckGroup({ label: "m.gguf", files: [file("m.gguf")] })).toBeNull();
    expect(precheckGroup({ label: "notes.txt", files: [file("notes.txt")] })).toMatch(
      /notes.txt is not a model file.*GGUF/,
    );
    expect(
      precheckGroup({ label: "hf", files: [file("config.json"), file("model.safetensors")] }),
    ).toBeNull();
    expect(precheckGroup({ label: "photos", files: [file("a.jpg"), file("b.jpg")] })).toMatch(
      /no model weights/,
    );
    expect(precheckGroup({ label: "empty", files: [] })).toMatch(/empty/);
  });
});
