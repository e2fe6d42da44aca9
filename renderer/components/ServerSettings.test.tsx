// @vitest-environment jsdom
import "../test/setup";
import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { SettingsView } from "./SettingsView";

const keyField = () => screen.getByLabelText("API key") as HTMLInputElement;

describe("Settings › Local server", () => {
  it("is off by default; switching it on shows the URL and key, which copy and rotate", async () => {
    const user = userEvent.setup();
    const writes: string[] = [];
    Object.defineProperty(navigator, "clipboard", {
      configurable: true,
      value: { writeText: async (text: string) => void writes.push(text) },
    });
    const api = createFakeApi();
    await renderWithStore(<SettingsView />, api);
    const toggle = await screen.findByRole("switch", { name: "OpenAI-compatible server" });
    expect((toggle as HTMLInputElement).checked).toBe(false);
    expect(screen.queryByLabelText("API key")).toBeNull();

    await user.click(toggle);
    expect(api.calls).toContainEqual({
      channel: "settings.set",
      payload: { server: { enabled: true, port: 1234 } },
    });
    expect(((await screen.findByLabelText("URL")) as HTMLInputElement).value).toBe(
      "http://127.0.0.1:1234/v1",
    );
    expect(keyField().value).toBe("sk-exitlane-fake1");
    await user.click(screen.getByRole("button", { name: "Copy API key" }));
    expect(writes).toEqual(["sk-exitlane-fake1"]);

    await user.click(screen.getByRole("button", { name: "New key" }));
    await waitFor(() => expect(keyField().value).toMatch(/^sk-exitlane-rotated/));
    expect(api.calls.some((c) => c.channel === "server.newKey")).toBe(true);
  });

  it("saves a valid port on blur, refuses an invalid one, and shows why the server is not running", async () => {
    const user = userEvent.setup();
    const api = createFakeApi();
    await renderWithStore(<SettingsView />, api);
    const port = await screen.findByLabelText("Port");
    await user.clear(port);
    await user.type(port, "80");
    await user.tab();
    expect(screen.getByText("A whole number from 1024 to 65535.")).toBeTruthy();
    expect(api.calls.some((c) => c.channel === "settings.set")).toBe(false);
    await user.clear(port);
    await user.type(port, "5678");
    await user.tab();
    expect(api.calls).toContainEqual({
      channel: "settings.set",
      payload: { server: { enabled: false, port: 5678 } },
    });

    act(() =>
      api.emit("server.status", {
        running: false,
        url: null,
        apiKey: null,
        error: "Port 5678 is in use; choose another port",
      }),
    );
    expect(screen.getByRole("alert").textContent).toBe("Port 5678 is in use; choose another port");
  });
});
