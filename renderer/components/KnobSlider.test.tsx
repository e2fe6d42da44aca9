// @vitest-environment jsdom
import "../test/setup";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { createFakeApi, makeModel } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { KnobSlider } from "./KnobSlider";

const slider = () => screen.getByRole("slider", { name: "Speed / accuracy" }) as HTMLInputElement;
const reading = () => screen.getByTestId("knob-reading").textContent;
const knobCalls = (api: ReturnType<typeof createFakeApi>) =>
  api.calls.filter((c) => c.channel === "generation.setKnob").map((c) => c.payload);

const kjvLike = makeModel({
  id: "kjv16",
  name: "kjv16",
  layers: 16,
  calibration: {
    status: "calibrated",
    curve: [
      { knob: 0.2, agreement: 0.98, meanExitLayer: 15.2, speedup: 0.87 },
      { knob: 0.4, agreement: 0.97, meanExitLayer: 12, speedup: 1.3 },
      { knob: 0.6, agreement: 0.95, meanExitLayer: 11, speedup: 1.22 },
      { knob: 1, agreement: 0.9, meanExitLayer: 7, speedup: 1.61 },
    ],
  },
});

describe("KnobSlider", () => {
  it("reads 1.00x and 100% at 0 and then the measured points in order, and sends their knobs", async () => {
    const api = createFakeApi({ models: [kjvLike] });
    await renderWithStore(<KnobSlider />, api);
    expect(slider().max).toBe("2");
    expect(reading()).toBe("Full depth · 1.00x · 100% same tokens");
    const seen: string[] = [];
    for (const i of ["1", "2"]) {
      fireEvent.change(slider(), { target: { value: i } });
      seen.push(reading() ?? "");
    }
    expect(seen).toEqual(["1.30x faster · 97% same tokens", "1.61x faster · 90% same tokens"]);
    fireEvent.keyUp(slider());
    await waitFor(() => expect(knobCalls(api).at(-1)).toEqual({ value: 1 }));
    expect(knobCalls(api)).toContainEqual({ value: 0.4 });
    expect(screen.queryByText(/slower/)).toBeNull();
  });

  it("moves a stored knob that is not a measured stop (the default 0.3) to the nearest one", async () => {
    const api = createFakeApi({ models: [kjvLike] });
    api.settings.knob = 0.3;
    await renderWithStore(<KnobSlider />, api);
    await waitFor(() => expect(knobCalls(api)).toEqual([{ value: 0.4 }]));
    expect(reading()).toBe("1.30x faster · 97% same tokens");
  });

  it("where early exit never measured faster, says so once, offers the exact stop and runs at it", async () => {
    const tiny = makeModel({
      calibration: {
        status: "calibrated",
        curve: [
          { knob: 0.5, agreement: 0.98, meanExitLayer: 4.6, speedup: 0.87 },
          { knob: 1, agreement: 0.93, meanExitLayer: 4.1, speedup: 0.95 },
        ],
        lossless: { speedup: 1.25 },
      },
    });
    const api = createFakeApi({ models: [tiny] });
    api.settings.knob = 0.3;
    await renderWithStore(<KnobSlider />, api);
    expect(slider().disabled).toBe(true);
    expect(reading()).toMatch(
      /^Early exit does not speed up this model on this computer · Exact · 1\.25x faster · 100% same tokens/,
    );
    expect(reading()).not.toMatch(/slower/);
    await waitFor(() => expect(knobCalls(api)).toEqual([{ value: 0 }]));
  });

  it("leaves the knob alone while the model is not calibrated", async () => {
    const api = createFakeApi({ models: [makeModel({ calibration: { status: "none", curve: [] } })] });
    api.settings.knob = 0.3;
    await renderWithStore(<KnobSlider />, api);
    expect(reading()).toMatch(/Not calibrated/);
    expect(knobCalls(api)).toEqual([]);
  });
});
