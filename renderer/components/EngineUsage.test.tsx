// @vitest-environment jsdom
import "../test/setup";
import { act, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { EngineUsage, USAGE_INTERVAL_MS } from "./EngineUsage";

afterEach(() => vi.useRealTimers());

describe("EngineUsage", () => {
  it("shows the engine process's memory and CPU, read again every few seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const api = createFakeApi();
    let reading = { pid: 4242, rssBytes: 300 * 2 ** 20, cpuPercent: 12.4 };
    api.handle("engine.usage", () => reading);
    await renderWithStore(<EngineUsage />, api);
    expect((await screen.findByTestId("engine-usage")).textContent).toBe("Engine · 300 MiB · CPU 12%");
    reading = { pid: 4242, rssBytes: 1.5 * 2 ** 30, cpuPercent: 87 };
    await act(async () => void vi.advanceTimersByTime(USAGE_INTERVAL_MS));
    expect(screen.getByTestId("engine-usage").textContent).toBe("Engine · 1.5 GiB · CPU 87%");
    const reads = api.calls.filter((c) => c.channel === "engine.usage").length;
    expect(reads).toBe(2);
  });

  it("shows nothing while the engine does not answer", async () => {
    const api = createFakeApi();
    api.handle("engine.usage", () => {
      throw new Error("engine restarting");
    });
    await renderWithStore(<EngineUsage />, api);
    await act(async () => undefined);
    expect(screen.queryByTestId("engine-usage")).toBeNull();
  });
});
