// @vitest-environment jsdom
// The Models view's catalog, Hugging Face repo listing, download cards and base-model label,
// against the fake API (the real back end is covered by e2e/download.spec.ts).
import "../test/setup";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import type { ImportJob } from "../../electron/contract";
import { ApiError } from "../../wire/errors";
import { createFakeApi, makeDownload, makeModel } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { Composer } from "./Composer";
import { ModelsView } from "./ModelsView";

afterEach(() => {
  delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
});

const card = () => screen.getByTestId("download-job");

/** Renders the view and waits for what it loads on opening (catalog, token status). */
async function renderModels(api = createFakeApi(), ui = <ModelsView />) {
  const rendered = await renderWithStore(ui, api);
  await screen.findAllByTestId("catalog-entry");
  await screen.findByTestId("token-status");
  return rendered;
}

describe("the catalog", () => {
  it("shows every entry with its size, memory, licence, purpose and exact file, also with an empty library", async () => {
    await renderModels(createFakeApi({ models: [] }));
    expect(screen.getByRole("heading", { name: "No models yet" })).toBeTruthy();
    const entries = await screen.findAllByTestId("catalog-entry");
    expect(entries).toHaveLength(2);
    const qwen = within(screen.getByRole("listitem", { name: "Qwen 0.5B Instruct" }));
    expect(qwen.getByText("494M")).toBeTruthy();
    expect(qwen.getByText("491 MB")).toBeTruthy();
    expect(qwen.getByText("1.2 GiB")).toBeTruthy();
    expect(qwen.getByText("Apache-2.0")).toBeTruthy();
    expect(qwen.getByText("Short chats and summaries on any laptop.")).toBeTruthy();
    expect(
      qwen.getByText("Qwen/Qwen2.5-0.5B-Instruct-GGUF · qwen2.5-0.5b-instruct-q4_k_m.gguf"),
    ).toBeTruthy();
  });

  it("starts the entry's exact file and disables its button while that download runs", async () => {
    const user = userEvent.setup();
    const scrolled: string[] = [];
    // jsdom has no layout, so no scrollIntoView: record which element asks for it.
    HTMLElement.prototype.scrollIntoView = function (this: HTMLElement) {
      scrolled.push(this.getAttribute("aria-label") ?? "");
    };
    const { api } = await renderModels(createFakeApi({ models: [] }));
    const button = await screen.findByRole("button", { name: "Download Qwen 0.5B Instruct" });
    await user.click(button);
    expect(api.calls.filter((c) => c.channel === "downloads.start").map((c) => c.payload)).toEqual([
      { repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", file: "qwen2.5-0.5b-instruct-q4_k_m.gguf" },
    ]);
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(true));
    // Its card (above the catalog) scrolls into sight, since the button may be far below it.
    expect(scrolled).toEqual(["Download of qwen2.5-0.5b-instruct-q4_k_m.gguf"]);
    expect(
      within(screen.getByRole("listitem", { name: "Qwen 0.5B Instruct" })).getByText("Downloading…"),
    ).toBeTruthy();
    expect(
      (screen.getByRole("button", { name: "Download Stories 260K" }) as HTMLButtonElement).disabled,
    ).toBe(false);
  });

  it("marks an entry already downloaded into the library", async () => {
    const api = createFakeApi({ models: [] });
    await renderModels(api);
    api.models.push(makeModel({ id: "s-dl", name: "stories260K" }));
    act(() =>
      api.emit(
        "download.progress",
        makeDownload({ state: "done", receivedBytes: 1_185_000, modelId: "s-dl" }),
      ),
    );
    const entry = within(screen.getByRole("listitem", { name: "Stories 260K" }));
    await waitFor(() => expect(entry.getByText("In your library")).toBeTruthy());
    expect((entry.getByRole("button", { name: "Download Stories 260K" }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });
});

describe("a Hugging Face repo", () => {
  it("lists the repo's GGUF files with sizes and the architecture, and downloads the one picked", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    api.handle("hub.listRepo", () => ({
      repo: "someone/tiny-GGUF",
      arch: "llama",
      files: [
        { path: "tiny-q8_0.gguf", sizeBytes: 2_500_000, sha256: "ab" },
        { path: "tiny-f32.gguf", sizeBytes: 9_000_000, sha256: "cd" },
      ],
    }));
    await renderModels(api);
    await user.type(
      screen.getByRole("textbox", { name: "Hugging Face repo id or URL" }),
      "https://huggingface.co/someone/tiny-GGUF",
    );
    await user.click(screen.getByRole("button", { name: "List files" }));
    const files = await screen.findByTestId("repo-files");
    expect(api.calls.find((c) => c.channel === "hub.listRepo")?.payload).toEqual({
      repo: "https://huggingface.co/someone/tiny-GGUF",
    });
    expect(within(files).getByText("someone/tiny-GGUF · architecture llama")).toBeTruthy();
    expect(within(files).getByText("2.50 MB")).toBeTruthy();
    const download = within(files).getByRole("button", { name: "Download" }) as HTMLButtonElement;
    expect(download.disabled).toBe(true); // nothing picked yet among two files
    await user.click(within(files).getByRole("radio", { name: /tiny-f32\.gguf/ }));
    await user.click(download);
    expect(api.calls.find((c) => c.channel === "downloads.start")?.payload).toEqual({
      repo: "someone/tiny-GGUF",
      file: "tiny-f32.gguf",
    });
  });

  it("says plainly when the engine cannot run the repo's models, and does not offer the download", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    api.handle("hub.listRepo", () => ({
      repo: "someone/mamba-GGUF",
      arch: "mamba",
      files: [{ path: "mamba.gguf", sizeBytes: 1000, sha256: null }],
      unsupported: "This engine cannot run mamba models: the architecture is not supported yet.",
    }));
    await renderModels(api);
    await user.type(
      screen.getByRole("textbox", { name: "Hugging Face repo id or URL" }),
      "someone/mamba-GGUF",
    );
    await user.click(screen.getByRole("button", { name: "List files" }));
    expect((await screen.findByTestId("repo-unsupported")).textContent).toBe(
      "This engine cannot run mamba models: the architecture is not supported yet.",
    );
    const files = screen.getByTestId("repo-files");
    expect((within(files).getByRole("button", { name: "Download" }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it("words a gated repo by its code and opens the token field, which never shows the token back", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    api.handle("hub.listRepo", () => {
      throw new ApiError("download", "HTTP 403 from hub", {
        detail: { downloadCode: "gated", httpStatus: 403 },
      });
    });
    await renderModels(api);
    await user.type(screen.getByRole("textbox", { name: "Hugging Face repo id or URL" }), "meta/gated");
    await user.click(screen.getByRole("button", { name: "List files" }));
    expect((await screen.findByTestId("repo-error")).textContent).toMatch(
      /^meta\/gated is a gated model: its authors ask you to accept their terms/,
    );
    const field = screen.getByLabelText("Hugging Face access token") as HTMLInputElement;
    expect(field.type).toBe("password");
    expect(screen.getByTestId("token-status").textContent).toMatch(/kept only for this session/);
    await user.type(field, "hf_secret");
    await user.click(screen.getByRole("button", { name: "Save token" }));
    expect(api.calls.find((c) => c.channel === "hub.setToken")?.payload).toEqual({ token: "hf_secret" });
    await waitFor(() => expect(field.value).toBe(""));
    expect(screen.getByTestId("token-status").textContent).toMatch(/^A token is stored\./);
    expect(document.body.textContent).not.toContain("hf_secret");
  });
});

describe("a download card", () => {
  it("shows progress, bytes, speed and time left from events, and Cancel cancels that job", async () => {
    const user = userEvent.setup();
    const { api } = await renderModels();
    act(() =>
      api.emit(
        "download.progress",
        makeDownload({ receivedBytes: 474_000, bytesPerSecond: 400_000, etaSeconds: 1.8 }),
      ),
    );
    const bar = within(card()).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("40");
    expect(within(card()).getByTestId("download-state").textContent).toBe("Downloading");
    expect(within(card()).getByText("474 KB of 1.19 MB")).toBeTruthy();
    expect(within(card()).getByTestId("download-speed").textContent).toBe("400 KB/s");
    expect(within(card()).getByTestId("download-eta").textContent).toBe("2 s left");

    act(() =>
      api.emit(
        "download.progress",
        makeDownload({ receivedBytes: 948_000, bytesPerSecond: 1_500_000, etaSeconds: 75 }),
      ),
    );
    expect(bar.getAttribute("aria-valuenow")).toBe("80");
    expect(within(card()).getByTestId("download-speed").textContent).toBe("1.5 MB/s");
    expect(within(card()).getByTestId("download-eta").textContent).toBe("1 min 15 s left");

    await user.click(screen.getByRole("button", { name: "Cancel download of stories260K-f32.gguf" }));
    expect(api.calls.find((c) => c.channel === "downloads.cancel")?.payload).toEqual({ jobId: "dl1" });
    act(() => api.emit("download.progress", makeDownload({ state: "cancelled", receivedBytes: 948_000 })));
    expect(within(card()).getByTestId("download-state").textContent).toBe("Cancelled");
    expect(within(card()).queryByRole("button", { name: /Cancel/ })).toBeNull();
  });

  it("follows its import job on the same card (no second import card), then offers the model for chat", async () => {
    const user = userEvent.setup();
    const api = createFakeApi({ models: [] });
    const { store } = await renderModels(api);
    const importJob: ImportJob = {
      jobId: "imp7",
      source: "/downloads/stories260K-f32.gguf",
      stage: "convert",
      progress: 0.5,
      state: "running",
    };
    act(() => {
      api.emit(
        "download.progress",
        makeDownload({ state: "importing", receivedBytes: 1_185_000, importJobId: "imp7" }),
      );
      api.emit("import.progress", importJob);
    });
    expect(within(card()).getByTestId("download-state").textContent).toBe("Importing");
    expect(within(card()).getByTestId("download-import").textContent).toBe("Convert: 50%");
    expect(screen.queryByTestId("import-job")).toBeNull();

    api.models.push(makeModel({ id: "stories-dl", name: "stories260K" }));
    act(() => {
      api.emit("import.progress", {
        ...importJob,
        stage: "calibrate",
        progress: 1,
        state: "done",
        modelId: "stories-dl",
      });
      api.emit(
        "download.progress",
        makeDownload({ state: "done", receivedBytes: 1_185_000, importJobId: "imp7", modelId: "stories-dl" }),
      );
    });
    expect(within(card()).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    await user.click(within(card()).getByRole("button", { name: "Use stories260K-f32.gguf" }));
    expect(api.calls.find((c) => c.channel === "models.select")?.payload).toEqual({ id: "stories-dl" });
    expect(store.getState().view).toBe("chat");
  });

  it("words a failure by its download code", async () => {
    const { api } = await renderModels();
    act(() =>
      api.emit(
        "download.progress",
        makeDownload({
          state: "failed",
          error: "sha256 mismatch: expected ab got cd",
          errorCode: "download",
          errorDetail: { downloadCode: "hash_mismatch" },
        }),
      ),
    );
    expect(within(card()).getByTestId("download-error").textContent).toBe(
      "The downloaded file stories260K-f32.gguf is not the one Hugging Face published (its checksum differs), so it was thrown away. Try again.",
    );
  });

  it("picks up jobs that ran while the view was closed", async () => {
    const api = createFakeApi();
    api.handle("downloads.list", () => [makeDownload({ receivedBytes: 592_500, bytesPerSecond: 400_000 })]);
    await renderModels(api);
    await waitFor(() =>
      expect(within(card()).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("50"),
    );
  });
});

describe("a base model", () => {
  it("is labelled as text completion in its card, and the composer says to write a beginning", async () => {
    const api = createFakeApi({
      models: [
        makeModel({ id: "base", name: "Base", mode: "completion" }),
        makeModel({ id: "chatty", name: "Chatty" }),
      ],
    });
    await renderModels(
      api,
      <>
        <ModelsView />
        <Composer />
      </>,
    );
    const base = within(screen.getByRole("listitem", { name: "Base" }));
    expect(base.getByTestId("model-mode").textContent).toBe(
      "Text completion — continues the text you write (no chat template)",
    );
    expect(within(screen.getByRole("listitem", { name: "Chatty" })).queryByTestId("model-mode")).toBeNull();
    expect(screen.getByRole("textbox", { name: "Message" }).getAttribute("placeholder")).toBe(
      "Write the beginning of a text; the model continues it",
    );
  });
});

describe("a model card", () => {
  it("names the file it came from and when, and 'Use this model' loads it and opens the chat", async () => {
    const user = userEvent.setup();
    const { store } = await renderModels(
      createFakeApi({
        models: [
          makeModel({ id: "m0", name: "Other" }),
          makeModel({ id: "m1", name: "Mine", sourceFile: "mine-q8_0.gguf" }),
        ],
      }),
    );
    const mine = within(screen.getByRole("listitem", { name: "Mine" }));
    expect(mine.getByText("mine-q8_0.gguf")).toBeTruthy();
    expect(mine.getByText("Imported")).toBeTruthy();
    store.getState().setView("models");
    await user.click(mine.getByRole("button", { name: "Use Mine" }));
    await waitFor(() => expect(store.getState().view).toBe("chat"));
    expect(store.getState().settings?.activeModelId).toBe("m1");
  });
});

describe("an import of a file already in the library", () => {
  it("offers to use the model that is there", async () => {
    const user = userEvent.setup();
    const { api, store } = await renderModels(
      createFakeApi({
        models: [makeModel({ id: "m0", name: "Other" }), makeModel({ id: "m1", name: "Mine" })],
      }),
    );
    const failed: ImportJob = {
      jobId: "j9",
      source: "mine.gguf",
      stage: "read",
      progress: 0,
      state: "failed",
      error: 'this file is already in the library as "Mine" (m1), in the same quantization',
      errorCode: "already_imported",
      errorDetail: { modelId: "m1" },
    };
    act(() => api.emit("import.progress", failed));
    expect((await screen.findByTestId("import-error")).textContent).toMatch(/already in your library/);
    await user.click(screen.getByRole("button", { name: "Use the model already in the library" }));
    await waitFor(() => expect(store.getState().view).toBe("chat"));
    expect(store.getState().settings?.activeModelId).toBe("m1");
  });
});
