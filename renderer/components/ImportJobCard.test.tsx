// @vitest-environment jsdom
import "../test/setup";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ImportJob } from "../../electron/contract";
import { createFakeApi } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { ModelsView } from "./ModelsView";

afterEach(() => vi.restoreAllMocks());

const job = (over: Partial<ImportJob> = {}): ImportJob => ({
  jobId: "job9",
  source: "/tmp/uploads/abc/stories260K-f32.gguf",
  stage: "convert",
  progress: 0,
  state: "running",
  ...over,
});

describe("import job card", () => {
  it("shows the overall percentage and, once it can tell, the time left, in plain sight", async () => {
    let now = 1000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const api = createFakeApi();
    await renderWithStore(<ModelsView />, api);
    act(() => api.emit("import.progress", job({ stage: "read", progress: 0.4 })));
    const percent = await screen.findByTestId("import-percent");
    expect(percent.textContent).toBe("10%");
    expect(percent.closest(".visually-hidden")).toBeNull();
    expect(screen.getByTestId("import-figures").textContent).toBe("10%");
    now += 10_000;
    act(() => api.emit("import.progress", job({ stage: "convert", progress: 0.6 })));
    // 10% -> 40% in 10 s: 60% left is about 20 s.
    await waitFor(() =>
      expect(screen.getByTestId("import-figures").textContent).toBe("40% · about 20 s left"),
    );
  });

  it("does not say 'No models yet' while the first model is being imported", async () => {
    const api = createFakeApi({ models: [] });
    await renderWithStore(<ModelsView />, api);
    expect(screen.getByRole("heading", { name: "No models yet" })).toBeTruthy();
    act(() => api.emit("import.progress", job()));
    expect(screen.queryByRole("heading", { name: "No models yet" })).toBeNull();
    act(() => api.emit("import.progress", job({ state: "failed", error: "bad file" })));
    expect(screen.getByRole("heading", { name: "No models yet" })).toBeTruthy();
  });

  it("shows one card per file: the upload's card gives way to the job's before the upload's reply", async () => {
    const api = createFakeApi({ models: [] });
    let reply: (v: { jobId: string }) => void = () => {};
    api.importFiles = (files) => {
      api.imported.push(files);
      return new Promise((resolve) => (reply = resolve));
    };
    const { store } = await renderWithStore(<ModelsView />, api);
    const file = new File(["GGUF"], "stories260K-f32.gguf");
    let done: Promise<void> = Promise.resolve();
    act(() => void (done = store.getState().importGroups([{ label: file.name, files: [file] }])));
    expect(screen.getAllByTestId("import-job")).toHaveLength(1);
    expect(screen.getByText("Sending the file to Exitlane…")).toBeTruthy();
    // The back end starts the job and reports it while the upload's HTTP reply is still on its way.
    act(() => api.emit("import.progress", job({ stage: "read", progress: 0.1 })));
    expect(screen.getAllByTestId("import-job")).toHaveLength(1);
    expect(screen.queryByText("Sending the file to Exitlane…")).toBeNull();
    await act(async () => {
      reply({ jobId: "job9" });
      await done;
    });
    expect(screen.getAllByTestId("import-job")).toHaveLength(1);
  });
});

describe("import options", () => {
  it("imports at the quantization chosen in the Models header (automatic by default)", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    const { store } = await renderWithStore(<ModelsView />, api);
    const chooser = screen.getByRole("combobox", { name: "Quantization for imports" }) as HTMLSelectElement;
    expect(chooser.selectedOptions[0].textContent).toBe(
      "As the file is (a float file: int8 under 1B parameters, int4 above)",
    );
    const file = new File(["GGUF"], "a.gguf");
    await act(() => store.getState().importGroups([{ label: "a.gguf", files: [file] }]));
    await user.selectOptions(chooser, "int4");
    await act(() => store.getState().importGroups([{ label: "a.gguf", files: [file] }]));
    expect(api.importOptions).toEqual([{}, { quant: "int4" }]);
  });

  it("offers 'Import again anyway' for a file already in the library, and sends the same file again", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    const { store } = await renderWithStore(<ModelsView />, api);
    const file = new File(["GGUF"], "stories260K-f32.gguf");
    await act(() => store.getState().importGroups([{ label: file.name, files: [file] }]));
    const jobId = store.getState().jobs[0].jobId;
    act(() =>
      api.emit(
        "import.progress",
        job({
          jobId,
          state: "failed",
          error: "already in the library",
          errorCode: "already_imported",
          errorDetail: { modelId: "stories260k" },
        }),
      ),
    );
    expect(screen.getByRole("button", { name: "Use the model already in the library" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Import again anyway" }));
    await waitFor(() => expect(api.imported).toHaveLength(2));
    expect(api.imported[1][0]).toBe(file);
    expect(api.importOptions[1]).toEqual({ again: true });
    expect(screen.queryByRole("button", { name: "Import again anyway" })).toBeNull();
    expect(store.getState().jobs.some((j) => j.jobId === jobId)).toBe(false);
  });
});

describe("quantization sizes on the import card", () => {
  // stories260K's packages as the engine announces them (native-models/convert/package-size.ts).
  const plan = { quant: "int8" as const, sizes: { int4: 594_207, int8: 1_004_767, f16: 612_177 } };

  it("shows the package size at the chosen quantization and the other choices with theirs", async () => {
    const api = createFakeApi();
    await renderWithStore(<ModelsView />, api);
    await act(async () => {}); // the catalog's first load
    act(() => api.emit("import.progress", job({ stage: "read" })));
    // Nothing to say before the engine has read the header.
    expect(screen.queryByTestId("import-sizes")).toBeNull();
    act(() => api.emit("import.progress", job({ stage: "read", plan })));
    expect(screen.getByTestId("import-size").textContent).toBe("int8 · 1.00 MB on disk");
    expect(screen.getByRole("button", { name: "Import as int4 instead — 594 KB" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Import as f16 instead — 612 KB" })).toBeTruthy();
    // Once it has ended there is nothing to switch.
    act(() => api.emit("import.progress", job({ stage: "write", progress: 1, state: "done", plan })));
    expect(screen.getByTestId("import-size").textContent).toBe("int8 · 1.00 MB on disk");
    expect(screen.queryByRole("button", { name: /instead/ })).toBeNull();
  });

  it("switches a running import to another quantization: the new job's card takes the old one's place", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    const { store } = await renderWithStore(<ModelsView />, api);
    act(() => api.emit("import.progress", job({ plan })));
    let reply: (v: { jobId: string }) => void = () => {};
    api.handle("models.restartImport", () => new Promise((resolve) => (reply = resolve)));
    await user.click(screen.getByRole("button", { name: "Import as int4 instead — 594 KB" }));
    expect(api.calls.at(-1)).toEqual({
      channel: "models.restartImport",
      payload: { jobId: "job9", quant: "int4" },
    });
    expect(screen.getByRole("status").textContent).toBe("Starting again as int4…");
    // The old job's cancel, part of the switch, is not shown as news.
    act(() => api.emit("import.progress", job({ plan, state: "cancelled" })));
    expect(screen.queryByText(/cancelled/i)).toBeNull();
    await act(async () => reply({ jobId: "job10" }));
    const cards = screen.getAllByTestId("import-job");
    expect(cards).toHaveLength(1);
    expect(store.getState().jobs.map((j) => [j.jobId, j.source])).toEqual([["job10", job().source]]);
    act(() =>
      api.emit("import.progress", job({ jobId: "job10", stage: "read", plan: { ...plan, quant: "int4" } })),
    );
    expect(screen.getByTestId("import-size").textContent).toBe("int4 · 594 KB on disk");
    expect(screen.getByRole("button", { name: "Import as int8 instead — 1.00 MB" })).toBeTruthy();
  });
});
