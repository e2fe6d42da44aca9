// @vitest-environment jsdom
import "../test/setup";
import { act, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeApi } from "../test/fakeApi";
import { renderWithStore } from "../test/render";
import { LiveCharts } from "./LiveCharts";

// jsdom has no layout: give the charts' containers a size so recharts draws the bars.
let restore: () => void = () => {};
beforeEach(() => {
  const rect = HTMLElement.prototype.getBoundingClientRect;
  HTMLElement.prototype.getBoundingClientRect = function () {
    return { x: 0, y: 0, top: 0, left: 0, right: 300, bottom: 130, width: 300, height: 130, toJSON() {} };
  };
  restore = () => void (HTMLElement.prototype.getBoundingClientRect = rect);
});
afterEach(() => restore());

describe("LiveCharts", () => {
  it("the exit histogram's legend shows exactly the colours of its bars, in order", async () => {
    const api = createFakeApi({
      conversations: [
        {
          title: "Story",
          messages: [
            ["user", "hi"],
            ["assistant", "a b c d e f g h i j"],
          ],
        },
      ],
    });
    const { store } = await renderWithStore(<LiveCharts />, api);
    await act(() => store.getState().openConversation(store.getState().conversations[0].id));
    const chart = await screen.findByTestId("histogram-chart");
    // recharts draws the bars after its first layout pass.
    await waitFor(() => expect(chart.querySelectorAll("path.recharts-rectangle").length).toBeGreaterThan(0));
    const bars = [...chart.querySelectorAll("path.recharts-rectangle")].map(
      (b) => b.getAttribute("fill") ?? "",
    );
    const distinctBars = bars.filter((f, i) => bars[i - 1] !== f);
    const legend = [...screen.getByTestId("histogram-legend").querySelectorAll("li")];
    expect(bars.length).toBeGreaterThan(0);
    expect(legend.map((li) => li.dataset.fill)).toEqual(distinctBars);
    const swatches = legend.map((li) => (li.querySelector(".swatch") as HTMLElement).style.background);
    expect(swatches).toEqual(distinctBars);
    // 5 layers: five colour steps, the last one full depth.
    expect(legend.map((li) => li.textContent)).toEqual([
      "layer 1",
      "layer 2",
      "layer 3",
      "layer 4",
      "layer 5 (full depth)",
    ]);
  });
});
