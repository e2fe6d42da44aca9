// @vitest-environment jsdom
import "../test/setup";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { LayerStrip } from "./LayerStrip";

function strip(n: number, layers = 16) {
  const exitLayers = Array.from({ length: n }, (_, i) => 1 + (i % layers));
  const tokenTexts = exitLayers.map((_, i) => `t${i}`);
  render(<LayerStrip exitLayers={exitLayers} tokenTexts={tokenTexts} layers={layers} meanExitLayer={8} />);
  const el = screen.getByTestId("layer-strip");
  return { el, rows: [...el.querySelectorAll(".layer-strip-row")], cells: [...el.querySelectorAll(".cell")] };
}

describe("LayerStrip", () => {
  it("keeps a short answer on one row, one cell per token", () => {
    const { rows, cells } = strip(40);
    expect(rows).toHaveLength(1);
    expect(cells).toHaveLength(40);
  });

  it("wraps a 500-token answer into rows of at most 80 cells, still one per token", () => {
    const { rows, cells } = strip(500);
    expect(rows).toHaveLength(7);
    expect(rows.every((r) => r.children.length <= 80)).toBe(true);
    expect(cells).toHaveLength(500);
    expect(cells[499].getAttribute("title")).toBe('Token 500 "t499": exit layer 4 of 16');
  });

  it("groups neighbouring tokens of a very long answer so it stays a few rows tall", () => {
    const { el, rows, cells } = strip(5000);
    expect(rows.length).toBeLessThanOrEqual(8);
    expect(cells.length).toBeLessThanOrEqual(640);
    expect(cells[0].getAttribute("title")).toBe("Tokens 1–8: mean exit layer 4.5 of 16");
    expect(el.getAttribute("aria-label")).toMatch(/^Exit layer of each of 5000 tokens \(8 tokens per cell\)/);
  });
});
