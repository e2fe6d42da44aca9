// @vitest-environment jsdom
import "../test/setup";
import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeApi, makeModel } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { ModelsView } from "./ModelsView";

// jsdom has no layout: give the charts' containers a size so recharts draws the curve.
let restore: () => void = () => {};
beforeEach(() => {
  const rect = HTMLElement.prototype.getBoundingClientRect;
  HTMLElement.prototype.getBoundingClientRect = function () {
    return { x: 0, y: 0, top: 0, left: 0, right: 280, bottom: 160, width: 280, height: 160, toJSON() {} };
  };
  restore = () => void (HTMLElement.prototype.getBoundingClientRect = rect);
});
afterEach(() => restore());

const card = (name: string) => screen.getByRole("listitem", { name });

describe("model card", () => {
  it("charts the stored calibration curve: agreement and measured speed against the knob", async () => {
    const api = createFakeApi({
      models: [
        makeModel({
          name: "kjv16",
          calibration: {
            status: "calibrated",
            curve: [
              { knob: 0.5, agreement: 0.97, meanExitLayer: 12, speedup: 1.3 },
              { knob: 1, agreement: 0.9, meanExitLayer: 7, speedup: 1.6 },
            ],
          },
        }),
      ],
    });
    await renderWithStore(<ModelsView />, api);
    const chart = within(card("kjv16")).getByTestId("calibration-chart");
    expect(chart.dataset.points).toBe("3");
    const rows = [...chart.querySelectorAll("tbody tr")].map((r) => r.textContent);
    expect(rows).toEqual(["0 (exact)100%1.00x", "0.597%1.30x", "190%1.60x"]);
    // Two measured lines (agreement, speed) and the 1.00x reference.
    await waitFor(() => expect(chart.querySelectorAll("path.recharts-line-curve")).toHaveLength(2));
  });

  it("says what runs the loaded model, and when it is not the native kernels, why and what that costs", async () => {
    const api = createFakeApi({ models: [makeModel({ name: "kjv16", id: "kjv16" })] });
    api.status.loadedModelId = "kjv16";
    api.status.kernels = { name: "native avx2" };
    await renderWithStore(<ModelsView />, api);
    expect(within(card("kjv16")).getByTestId("model-kernels").textContent).toBe(
      "Runs on the native avx2 kernels.",
    );

    const slow = createFakeApi({ models: [makeModel({ name: "slow", id: "slow" })] });
    slow.status.loadedModelId = "slow";
    slow.status.kernels = {
      name: "onnxruntime MatMulNBits",
      notice: "the native kernels are not available here: native kernels not found",
    };
    await renderWithStore(<ModelsView />, slow);
    const notice = within(card("slow")).getByTestId("model-kernels");
    expect(notice.className).toContain("warn");
    expect(notice.textContent).toMatch(
      /^Runs on onnxruntime MatMulNBits, several times slower .*not found\.$/,
    );
  });

  it("has no curve, and says why, when the model is not calibrated", async () => {
    const api = createFakeApi({
      models: [makeModel({ name: "raw", calibration: { status: "none", curve: [] } })],
    });
    await renderWithStore(<ModelsView />, api);
    expect(within(card("raw")).queryByTestId("calibration-chart")).toBeNull();
    expect(within(card("raw")).getByTestId("calibration-none").textContent).toMatch(/^Not calibrated yet/);
  });

  it("says how much memory the model needs before it is loaded: files plus the K/V cache at its context", async () => {
    const api = createFakeApi({
      models: [
        makeModel({ name: "stories260K", sizeBytes: 1_200_000, contextLength: 512, kvBytesPerToken: 1280 }),
      ],
    });
    api.settings.contextLength = 2048; // longer than the model's: it runs with 512
    await renderWithStore(<ModelsView />, api);
    expect(within(card("stories260K")).getByTestId("model-memory").textContent).toBe(
      "About 1.86 MB (files 1.20 MB + context cache 655 KB at 512 tokens)",
    );
  });
});
