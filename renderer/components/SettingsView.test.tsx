// @vitest-environment jsdom
import "../test/setup";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { createFakeApi, makeModel } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { describeNativeKernels, SettingsView } from "./SettingsView";

const saved = () => screen.getByTestId("settings-saved").textContent;

describe("Settings", () => {
  it("saves as you go: no Save button, and a visible 'Saved' after each change", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    await renderWithStore(<SettingsView />, api);
    expect(screen.queryByRole("button", { name: /^Save/ })).toBeNull();
    expect(saved()).toBe("");

    await user.click(screen.getByRole("radio", { name: "Dark" }));
    await waitFor(() => expect(saved()).toBe("✓ Saved"));
    expect(api.settings.theme).toBe("dark");

    const temperature = screen.getByLabelText("Temperature");
    await user.clear(temperature);
    await user.type(temperature, "0.4");
    fireEvent.blur(temperature);
    await waitFor(() => expect(api.settings.defaultSampling.temperature).toBe(0.4));
    expect(saved()).toBe("✓ Saved");
  });

  it("keeps, and then saves, a field typed into while the field before it was still saving", async () => {
    const api = createFakeApi();
    let release: () => void = () => {};
    const original = api.request.bind(api);
    // The back end answers the first save only when the test says so.
    let held = true;
    api.request = (async (channel: string, payload: unknown) => {
      if (channel === "settings.set" && held) {
        held = false;
        await new Promise<void>((r) => (release = r));
      }
      return original(channel as never, payload as never);
    }) as typeof api.request;
    await renderWithStore(<SettingsView />, api);
    const temperature = screen.getByLabelText("Temperature");
    const maxTokens = screen.getByLabelText("Max tokens");
    fireEvent.change(temperature, { target: { value: "0" } });
    fireEvent.blur(temperature);
    fireEvent.change(maxTokens, { target: { value: "192" } });
    fireEvent.blur(maxTokens);
    release();
    await waitFor(() => expect(api.settings.defaultSampling.maxTokens).toBe(192));
    expect(api.settings.defaultSampling.temperature).toBe(0);
    expect((maxTokens as HTMLInputElement).value).toBe("192");
  });

  it("does not say 'Saved' when the back end refused the change", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    api.handle("settings.set", () => {
      throw new Error("disk full");
    });
    await renderWithStore(<SettingsView />, api);
    await user.click(screen.getByRole("radio", { name: "Dark" }));
    await waitFor(() => expect(api.calls.some((c) => c.channel === "settings.set")).toBe(true));
    expect(saved()).toBe("");
  });

  it("says that a context longer than the active model's is clamped to the model", async () => {
    const api = createFakeApi({ models: [makeModel({ name: "stories260K", contextLength: 512 })] });
    api.settings.contextLength = 2048;
    await renderWithStore(<SettingsView />, api);
    expect(screen.getByTestId("context-clamped").textContent).toBe(
      "stories260K reads at most 512 tokens, so it runs with 512; models that allow more use 2,048.",
    );
  });

  it("lists the providers engine.info reports; a stored one that is not there says so", async () => {
    const api = createFakeApi();
    api.settings.executionProvider = "cuda";
    await renderWithStore(<SettingsView />, api);
    const select = screen.getByRole("combobox", { name: "Execution provider" }) as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "CUDA (NVIDIA) (not available here)",
      "CPU",
      "WebGPU",
    ]);
  });

  it("says when the native kernels are missing, why, and that answers are slower", () => {
    expect(
      describeNativeKernels({
        available: false,
        kernels: [],
        detail: "native kernels not found (looked in x)",
      }),
    ).toBe(
      "Not available: models run on onnxruntime, and answers are several times slower (native kernels not found (looked in x))",
    );
    expect(describeNativeKernels({ available: true, kernels: ["avx2", "scalar"], detail: "" })).toBe(
      "avx2 (this CPU also runs scalar)",
    );
  });
});
