import { describe, expect, it, vi } from "vitest";
import { createFakeApi, makeModel } from "../../test/fakeApi";
import { setupStore as setup } from "../../test/storeSetup";

describe("models slice", () => {
  it("imports dropped groups, refuses non-models locally, and follows job progress", async () => {
    const { api, s } = await setup();
    await s().importGroups([
      { label: "stories260K.gguf", files: [new File(["x"], "stories260K.gguf")] },
      { label: "notes.txt", files: [new File(["x"], "notes.txt")] },
    ]);
    expect(api.imported).toHaveLength(1);
    expect(s().localImports).toEqual([
      expect.objectContaining({
        label: "notes.txt",
        state: "refused",
        error: expect.stringMatching(/not a model file/),
      }),
    ]);
    const job = s().jobs[0];
    expect(job.state).toBe("running");
    api.emit("import.progress", { ...job, stage: "quantize", progress: 0.5 });
    expect(s().jobs[0].stage).toBe("quantize");
    api.models.push(makeModel({ id: "new", name: "New model" }));
    const listsBefore = api.calls.filter((c) => c.channel === "models.list").length;
    api.emit("import.progress", { ...job, stage: "calibrate", progress: 1, state: "done", modelId: "new" });
    await vi.waitFor(() => expect(s().models.map((m) => m.id)).toContain("new"));
    expect(api.calls.filter((c) => c.channel === "models.list").length).toBe(listsBefore + 1);
    s().dismissJob(job.jobId);
    expect(s().jobs).toHaveLength(0);
  });
  it("shows a failed upload on its card in the host's words", async () => {
    const api = createFakeApi();
    api.importFiles = async () => {
      throw new Error("broken.gguf is not a GGUF file: the first four bytes are not 'GGUF'.");
    };
    const { s } = await setup(api);
    await s().importGroups([{ label: "broken.gguf", files: [new File(["junk"], "broken.gguf")] }]);
    expect(s().localImports[0].state).toBe("refused");
    expect(s().localImports[0].error).toMatch(
      /broken.gguf could not be imported: broken.gguf is not a GGUF file/,
    );
    expect(s().models).toHaveLength(1);
  });
  it("selects a model, sets the knob and saves settings", async () => {
    const { api, s } = await setup();
    await s().selectModel(null);
    expect(s().settings?.activeModelId).toBeNull();
    await s().selectModel("stories260k");
    expect(s().settings?.activeModelId).toBe("stories260k");
    expect(s().selectingModelId).toBeNull();
    await s().setKnob(0.6);
    expect(api.calls.at(-1)).toEqual({ channel: "generation.setKnob", payload: { value: 0.6 } });
    expect(s().settings?.knob).toBe(0.6);
    await s().updateSettings({ theme: "dark" });
    expect(s().settings?.theme).toBe("dark");
  });
});
