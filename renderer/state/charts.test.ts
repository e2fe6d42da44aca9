import { describe, expect, it } from "vitest";
import {
  formatTick,
  timeTicks,
  DEPTH_BUCKETS,
  earlyExitShare,
  exitHistogram,
  exitLayerSeries,
  layerBucket,
  layerColor,
  tail,
  tokensPerSecondSeries,
} from "./charts";

describe("chart data", () => {
  it("gives one exit-layer point per token", () => {
    expect(exitLayerSeries([5, 2, 3])).toEqual([
      { token: 1, layer: 5 },
      { token: 2, layer: 2 },
      { token: 3, layer: 3 },
    ]);
    expect(exitLayerSeries([])).toEqual([]);
  });

  it("computes tokens/s as a moving average, skipping the prefill token", () => {
    const s = tokensPerSecondSeries([500, 10, 10, 20, 20], 2);
    expect(s).toHaveLength(4);
    expect(s[0]).toEqual({ t: 0.01, tokensPerSecond: 100 });
    expect(s[1].tokensPerSecond).toBe(100);
    expect(s[2].tokensPerSecond).toBeCloseTo(2000 / 30, 1);
    expect(s[3]).toEqual({ t: 0.06, tokensPerSecond: 50 });
    expect(tokensPerSecondSeries([300])).toEqual([]);
  });

  it("bins exit layers 1..layers", () => {
    expect(exitHistogram([1, 3, 3, 5], 5)).toEqual([
      { layer: 1, count: 1 },
      { layer: 2, count: 0 },
      { layer: 3, count: 2 },
      { layer: 4, count: 0 },
      { layer: 5, count: 1 },
    ]);
    expect(exitHistogram([], 3).map((b) => b.count)).toEqual([0, 0, 0]);
    // a 0-based layer or one beyond the reported count widens the bins instead of being lost
    expect(exitHistogram([0, 4], 2).map((b) => b.layer)).toEqual([0, 1, 2, 3, 4]);
  });

  it("reports the share of early exits", () => {
    expect(earlyExitShare([8, 8, 3, 1], 8)).toBe(0.5);
    expect(earlyExitShare([], 8)).toBe(0);
  });

  it("maps depth to colour buckets and colours", () => {
    expect(layerBucket(1, 8)).toBe(0);
    expect(layerBucket(8, 8)).toBe(DEPTH_BUCKETS - 1);
    expect(layerBucket(20, 8)).toBe(DEPTH_BUCKETS - 1);
    expect(layerBucket(3, 1)).toBe(DEPTH_BUCKETS - 1);
    expect(layerColor(1, 8)).toBe("hsl(170 65% 58%)");
    expect(layerColor(8, 8)).toBe("hsl(270 65% 50%)");
  });

  it("tails long series", () => {
    const a = [1, 2, 3, 4];
    expect(tail(a, 10)).toBe(a);
    expect(tail(a, 2)).toEqual([3, 4]);
  });
});

describe("time axis ticks", () => {
  it("never repeats a label, with a round step and at most six ticks", () => {
    for (const max of [0.05, 0.3, 0.9, 2.5, 7, 42, 95, 610]) {
      const ticks = timeTicks(max);
      const labels = ticks.map(formatTick);
      expect(new Set(labels).size).toBe(labels.length);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(ticks[0]).toBe(0);
      expect(ticks[ticks.length - 1]).toBeLessThanOrEqual(max + 1e-9);
    }
    expect(timeTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(formatTick(90)).toBe("1m 30s");
  });
});
