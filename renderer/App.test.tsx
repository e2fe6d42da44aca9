// @vitest-environment jsdom
import "./test/setup";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { createFakeApi, makeModel } from "./test/fakeApi";
import { fakeRowHeight, fakeViewport, renderWithStore } from "./test/render";

let restore: (() => void)[] = [];
beforeEach(() => {
  restore = [fakeViewport("message-scroller", 800), fakeRowHeight("message-row", 120)];
});
afterEach(() => restore.forEach((r) => r()));

const withChat = () =>
  createFakeApi({
    conversations: [
      {
        title: "Story time",
        messages: [
          ["user", "hello"],
          ["assistant", "Hi there"],
        ],
      },
    ],
  });

describe("Exitlane app", () => {
  it("shows the app shell with the chat, the model picker and the slider", async () => {
    await renderWithStore(<App />, withChat());
    expect(screen.getByRole("navigation", { name: "Views" })).toBeTruthy();
    expect(screen.getByRole("heading", { level: 1, name: "Story time" })).toBeTruthy();
    expect((screen.getByRole("combobox", { name: "Active model" }) as HTMLSelectElement).value).toBe(
      "stories260k",
    );
    expect((screen.getByRole("slider", { name: "Speed / accuracy" }) as HTMLInputElement).disabled).toBe(
      false,
    );
    expect(screen.getByTestId("knob-reading").textContent).toBe("Full depth · 1.00x · 100% same tokens");
    expect(screen.getByRole("button", { name: /^Story time/ }).getAttribute("aria-current")).toBe("true");
  });

  it("About this computer shows engine.info in the Settings view", async () => {
    const user = userEvent.setup();
    await renderWithStore(<App />);
    await user.click(screen.getByRole("button", { name: "Settings" }));
    const panel = screen.getByRole("region", { name: "About this computer" });
    expect(panel.dataset.testid).toBe("system-info");
    const q = within(panel);
    expect(q.getByTestId("sys-ort-version").textContent).toBe("1.30.0");
    expect(q.getByTestId("sys-cores").textContent).toBe("2");
    expect(q.getByTestId("sys-cpu").textContent).toContain("Xeon");
    expect(q.getByTestId("sys-providers").textContent).toBe("cpu, webgpu");
    expect(q.getByTestId("sys-simd").textContent).toContain("avx512f");
    expect(q.getByTestId("sys-memory").textContent).toBe("8.0 GiB");
    expect(q.getByTestId("sys-native").textContent).toBe("avx512-vnni (this CPU also runs avx2, scalar)");
    // only the providers the engine reports can be chosen
    const provider = screen.getByRole("combobox", { name: "Execution provider" }) as HTMLSelectElement;
    expect([...provider.options].map((o) => o.value)).toEqual(["cpu", "webgpu"]);
  });

  it("sends with Enter, streams the answer with live charts, and stops with Esc", async () => {
    const user = userEvent.setup();
    const { api, store, frames } = await renderWithStore(<App />, withChat());
    const box = screen.getByRole("textbox", { name: "Message" });
    await user.type(box, "Tell me{Shift>}{Enter}{/Shift}a story");
    expect((box as HTMLTextAreaElement).value).toBe("Tell me\na story");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(store.getState().generation).not.toBeNull());
    expect(api.calls.find((c) => c.channel === "chat.send")?.payload).toEqual({
      conversationId: store.getState().activeId,
      text: "Tell me\na story",
    });
    expect((box as HTMLTextAreaElement).value).toBe("");
    expect(screen.getByRole("button", { name: /Stop/ })).toBeTruthy();

    const { conversationId, messageId } = store.getState().generation!;
    const chart = () => screen.getByTestId("exit-chart");
    for (let i = 0; i < 6; i++) {
      act(() => {
        api.streamTokens(conversationId, messageId, [` w${i}`], { exitLayers: [1 + (i % 5)] });
        frames.runFrame();
      });
      // one point per generated token
      await waitFor(() => expect(chart().dataset.points).toBe(String(i + 1)));
    }
    expect(chart().dataset.layers).toBe("5");
    const answer = document.querySelector(`[data-message-id="${messageId}"]`) as HTMLElement;
    await waitFor(() => expect(answer.textContent).toContain("w0 w1 w2 w3 w4 w5"));
    expect(within(answer).getByTestId("stat-tokens").textContent).toBe("6");
    expect(within(answer).getByTestId("stat-mean-exit").textContent).toBe("2.7 / 5"); // (1+2+3+4+5+1)/6
    const strip = within(answer).getByTestId("layer-strip");
    const cells = strip.querySelectorAll(".cell");
    expect(cells).toHaveLength(6);
    expect(cells[0].getAttribute("title")).toBe('Token 1 " w0": exit layer 1 of 5');

    await user.keyboard("{Escape}");
    expect(api.calls.at(-1)).toEqual({ channel: "chat.stop", payload: { conversationId } });
    act(() => api.finish(conversationId, messageId, "stopped"));
    expect(store.getState().generation).toBeNull();
    expect(within(answer).getByText("Stopped")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Send" })).toBeTruthy();
  });

  it("hovering a token in the token view shows its exit layer", async () => {
    const user = userEvent.setup();
    await renderWithStore(<App />, withChat());
    const answer = document.querySelector('[data-role="assistant"]') as HTMLElement;
    await user.click(within(answer).getByRole("button", { name: "Show tokens coloured by exit layer" }));
    const tokens = within(answer).getByTestId("token-view").querySelectorAll(".token");
    expect(tokens).toHaveLength(2);
    expect(tokens[0].getAttribute("title")).toBe("exit layer 1 of 5");
    expect(tokens[1].textContent).toBe("there");
  });

  it("edits and resends a user message; regenerates the last answer", async () => {
    const user = userEvent.setup();
    const { api, store } = await renderWithStore(<App />, withChat());
    await user.click(screen.getByRole("button", { name: "Edit and resend" }));
    const editor = screen.getByRole("textbox", { name: "Edit your message" });
    await user.clear(editor);
    await user.type(editor, "hello again");
    await user.click(screen.getByRole("button", { name: "Save & resend" }));
    await waitFor(() => expect(api.calls.some((c) => c.channel === "chat.edit")).toBe(true));
    expect(store.getState().messages[0].content).toBe("hello again");
    const g = store.getState().generation!;
    act(() => api.finish(g.conversationId, g.messageId));
    await user.click(screen.getByRole("button", { name: "Regenerate answer" }));
    await waitFor(() => expect(api.calls.some((c) => c.channel === "chat.regenerate")).toBe(true));
  });

  it("disables the slider with an explanation when the model is not calibrated", async () => {
    const api = createFakeApi({
      models: [makeModel({ name: "raw", calibration: { status: "none", curve: [] } })],
    });
    await renderWithStore(<App />, api);
    const slider = screen.getByRole("slider", { name: "Speed / accuracy" }) as HTMLInputElement;
    expect(slider.disabled).toBe(true);
    const reading = screen.getByTestId("knob-reading");
    expect(reading.textContent).toMatch(/Not calibrated/);
    expect(reading.textContent).toMatch(/raw has not been calibrated yet/);
    expect(slider.getAttribute("aria-describedby")).toBe(reading.id);
  });

  it("moving the slider sends generation.setKnob and shows the measured numbers", async () => {
    const { api } = await renderWithStore(<App />, withChat());
    const slider = screen.getByRole("slider", { name: "Speed / accuracy" });
    // The slider's stops are the measured points: the second is the curve's knob 0.5.
    fireEvent.change(slider, { target: { value: "1" } });
    await waitFor(() => expect(api.calls.some((c) => c.channel === "generation.setKnob")).toBe(true));
    expect(api.calls.find((c) => c.channel === "generation.setKnob")?.payload).toEqual({ value: 0.5 });
    expect(screen.getByTestId("knob-reading").textContent).toBe("1.40x faster · 98% same tokens");
  });

  it("imports a file dropped anywhere on the window and shows its job card", async () => {
    const { api } = await renderWithStore(<App />, withChat());
    const file = new File(["GGUF"], "stories260K.gguf");
    const dataTransfer = {
      types: ["Files"],
      files: [file],
      items: [{ kind: "file", getAsFile: () => file, webkitGetAsEntry: () => null }],
      dropEffect: "none",
    };
    fireEvent.dragEnter(window, { dataTransfer });
    expect(screen.getByTestId("drop-overlay")).toBeTruthy();
    fireEvent.drop(window, { dataTransfer });
    await waitFor(() => expect(api.imported).toHaveLength(1));
    expect(api.imported[0][0]).toBe(file);
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
    expect(screen.getByRole("heading", { level: 1, name: "Models" })).toBeTruthy();
    const card = await screen.findByTestId("import-job");
    expect(card.dataset.state).toBe("running");
    expect(within(card).getByRole("button", { name: /Cancel import/ })).toBeTruthy();
    expect(within(card).getByRole("progressbar")).toBeTruthy();
  });

  it("a dropped file that is not a model is refused in plain words and the library is unchanged", async () => {
    const { api } = await renderWithStore(<App />, withChat());
    const file = new File(["hello"], "notes.txt");
    fireEvent.drop(window, { dataTransfer: { types: ["Files"], files: [file], items: [] } });
    const error = await screen.findByTestId("import-error");
    expect(error.textContent).toMatch(/notes.txt is not a model file/);
    expect(api.imported).toHaveLength(0);
    expect(screen.getAllByTestId("model-card")).toHaveLength(1);
  });

  it("shows import progress per stage and the engine's error words", async () => {
    const user = userEvent.setup();
    const { api } = await renderWithStore(<App />);
    await user.click(screen.getByRole("button", { name: "Models" }));
    act(() =>
      api.emit("import.progress", {
        jobId: "j1",
        source: "broken.gguf",
        stage: "convert",
        progress: 0.5,
        state: "running",
      }),
    );
    const card = screen.getByTestId("import-job");
    expect(within(card).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("38");
    expect(card.querySelector('[aria-current="step"]')?.textContent).toMatch(/Convert/);
    await user.click(within(card).getByRole("button", { name: "Cancel import of broken.gguf" }));
    expect(api.calls.at(-1)).toEqual({ channel: "models.cancelImport", payload: { jobId: "j1" } });
    act(() =>
      api.emit("import.progress", {
        jobId: "j1",
        source: "broken.gguf",
        stage: "convert",
        progress: 0.5,
        state: "failed",
        error:
          "broken.gguf: tensor blk.0.attn_q.weight has type Q5_K, which Exitlane cannot convert yet (supported: F32, F16, Q8_0, Q4_0).",
      }),
    );
    expect(within(card).getByRole("alert").textContent).toMatch(/Q5_K/);
  });

  it("lists model details and deletes a model only after confirming", async () => {
    const user = userEvent.setup();
    const { api } = await renderWithStore(<App />);
    await user.click(screen.getByRole("button", { name: "Models" }));
    const card = screen.getByTestId("model-card");
    for (const text of [
      "llama",
      "260K",
      "f32",
      "5",
      "512 tokens",
      "1.20 MB",
      "GGUF",
      "Calibrated (3 points)",
    ]) {
      expect(within(card).getByText(text)).toBeTruthy();
    }
    await user.click(within(card).getByRole("button", { name: "Delete stories260K" }));
    const dialog = screen.getByRole("alertdialog", { name: "Delete stories260K?" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(api.calls.some((c) => c.channel === "models.delete")).toBe(false);
    await user.click(within(card).getByRole("button", { name: "Delete stories260K" }));
    await user.click(screen.getByRole("button", { name: "Delete model" }));
    await waitFor(() => expect(screen.queryByTestId("model-card")).toBeNull());
    expect(api.calls.some((c) => c.channel === "models.delete")).toBe(true);
  });

  it("renames and deletes a conversation (with confirmation) from the sidebar", async () => {
    const user = userEvent.setup();
    const { api } = await renderWithStore(<App />, withChat());
    await user.click(screen.getByRole("button", { name: "Rename Story time" }));
    const input = screen.getByRole("textbox", { name: "New name for Story time" });
    await user.clear(input);
    await user.type(input, "Bedtime{Enter}");
    await waitFor(() => expect(screen.getByRole("button", { name: /^Bedtime/ })).toBeTruthy());
    await user.click(screen.getByRole("button", { name: "Delete Bedtime" }));
    const dialog = screen.getByRole("alertdialog");
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Cancel" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Delete Bedtime" }));
    await user.click(screen.getByRole("button", { name: "Delete chat" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: /^Bedtime/ })).toBeNull());
    expect(api.calls.some((c) => c.channel === "chat.delete")).toBe(true);
  });

  it("keyboard in the desktop app: Ctrl+N new chat", async () => {
    const user = userEvent.setup();
    const desktop = Object.assign(withChat(), { transport: "ipc" as const });
    const { api } = await renderWithStore(<App />, desktop);
    expect(screen.getByRole("button", { name: /New chat/ }).textContent).toContain("Ctrl+N");
    await user.keyboard("{Control>}n{/Control}");
    await waitFor(() => expect(api.calls.some((c) => c.channel === "chat.create")).toBe(true));
  });

  it("? or Ctrl+/ lists every shortcut, with the browser's own new-chat key; Esc closes it", async () => {
    const user = userEvent.setup();
    await renderWithStore(<App />, withChat());
    (document.activeElement as HTMLElement | null)?.blur(); // the message box starts focused
    await user.keyboard("?");
    const panel = screen.getByRole("dialog", { name: "Keyboard shortcuts" });
    expect(panel.textContent).toContain("Alt+N");
    expect(panel.textContent).not.toContain("Ctrl+N");
    for (const does of ["Search chats", "Settings", "Send the message", "Stop the answer"])
      expect(panel.textContent).toContain(does);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog", { name: "Keyboard shortcuts" })).toBeNull();
    await user.keyboard("{Control>}/{/Control}");
    expect(screen.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Close" }));
    // Typed into the message box, ? is a character.
    await user.type(screen.getByRole("textbox", { name: "Message" }), "why?");
    expect(screen.queryByRole("dialog", { name: "Keyboard shortcuts" })).toBeNull();
  });

  it("keyboard in a browser tab: Alt+N new chat, Ctrl+K search, Ctrl+, settings", async () => {
    const user = userEvent.setup();
    const { api, store } = await renderWithStore(<App />, withChat());
    expect(screen.getByRole("button", { name: /New chat/ }).textContent).toContain("Alt+N");
    await user.keyboard("{Alt>}n{/Alt}");
    await waitFor(() => expect(api.calls.some((c) => c.channel === "chat.create")).toBe(true));
    expect(store.getState().messages).toHaveLength(0);
    expect(document.activeElement).toBe(screen.getByRole("textbox", { name: "Message" }));
    await user.keyboard("{Control>}k{/Control}");
    expect(document.activeElement).toBe(screen.getByRole("searchbox", { name: "Search conversations" }));
    await user.keyboard("{Control>},{/Control}");
    expect(screen.getByRole("heading", { level: 1, name: "Settings" })).toBeTruthy();
  });

  it("searches conversations by text", async () => {
    const user = userEvent.setup();
    const api = createFakeApi({
      conversations: [{ title: "Cats", messages: [["user", "tell me about llamas"]] }, { title: "Dogs" }],
    });
    await renderWithStore(<App />, api);
    await user.type(screen.getByRole("searchbox", { name: "Search conversations" }), "llamas");
    await waitFor(() => expect(screen.queryByRole("button", { name: /^Dogs/ })).toBeNull());
    expect(screen.getByRole("button", { name: /^Cats/ })).toBeTruthy();
  });

  it("shows a banner while the engine restarts and keeps the conversation", async () => {
    const { api } = await renderWithStore(<App />, withChat());
    act(() =>
      api.emit("engine.status", {
        state: "restarting",
        loadedModelId: null,
        message: "the engine process exited",
      }),
    );
    expect(screen.getByTestId("banner-engine").textContent).toMatch(/restarting.*conversation is kept/);
    expect(document.querySelectorAll("article.message")).toHaveLength(2);
    act(() =>
      api.emit("engine.status", {
        state: "ready",
        loadedModelId: "stories260k",
        fallbackNotice: "WebGPU failed to start (no adapter); using the CPU.",
      }),
    );
    expect(screen.queryByTestId("banner-engine")).toBeNull();
    expect(screen.getByTestId("banner-fallback").textContent).toMatch(/using the CPU/);
  });

  it("side panel tabs follow the tabs pattern (arrow keys move between them)", async () => {
    const user = userEvent.setup();
    await renderWithStore(<App />, withChat());
    const charts = screen.getByRole("tab", { name: "Live charts" });
    expect(charts.getAttribute("aria-selected")).toBe("true");
    charts.focus();
    await user.keyboard("{ArrowRight}");
    const settings = screen.getByRole("tab", { name: "Chat settings" });
    expect(settings.getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(settings);
    expect(screen.getByRole("tabpanel").getAttribute("aria-labelledby")).toBe(settings.id);
    expect(screen.getByRole("textbox", { name: "System prompt for this chat" })).toBeTruthy();
  });

  it("follows the theme setting", async () => {
    const user = userEvent.setup();
    await renderWithStore(<App />);
    await user.click(screen.getByRole("button", { name: "Settings" }));
    await user.click(screen.getByRole("radio", { name: "Dark" }));
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe("dark"));
    await user.click(screen.getByRole("radio", { name: "Light" }));
    await waitFor(() => expect(document.documentElement.dataset.theme).toBe("light"));
  });

  it("exports the conversation as a Markdown download", async () => {
    const user = userEvent.setup();
    const created: Blob[] = [];
    URL.createObjectURL = ((b: Blob) => (created.push(b), "blob:x")) as typeof URL.createObjectURL;
    URL.revokeObjectURL = () => {};
    let downloaded = "";
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      downloaded = this.download;
    };
    try {
      const { api } = await renderWithStore(<App />, withChat());
      await user.click(screen.getByRole("button", { name: "Export chat as Markdown" }));
      await waitFor(() => expect(downloaded).toBe("Story time.md"));
      expect(api.calls.some((c) => c.channel === "chat.export")).toBe(true);
      expect(await created[0].text()).toBe("# Story time\n");
    } finally {
      HTMLAnchorElement.prototype.click = click;
    }
  });
});
