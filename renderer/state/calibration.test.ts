import { describe, expect, it } from "vitest";
import {
  describeExact,
  describeStop,
  formatAgreement,
  knobAvailability,
  nearestStop,
  NO_SPEEDUP,
  sliderStops,
} from "./calibration";
import { makeModel } from "../test/fakeApi";

/** A curve as calibration stores it, noisy: 0.2 measured slower, 0.6 slower than 0.4. */
const noisy = [
  { knob: 0.2, agreement: 0.98, meanExitLayer: 15.2, speedup: 0.87 },
  { knob: 0.4, agreement: 0.97, meanExitLayer: 12, speedup: 1.3 },
  { knob: 0.6, agreement: 0.95, meanExitLayer: 11, speedup: 1.22 },
  { knob: 0.8, agreement: 0.93, meanExitLayer: 9, speedup: 1.45 },
  { knob: 1, agreement: 0.9, meanExitLayer: 7, speedup: 1.61 },
];
const kjvLike = makeModel({ layers: 16, calibration: { status: "calibrated", curve: noisy } });

describe("the slider's stops", () => {
  it("are exact (1.00x, 100%) at 0, then only measured points, each faster and less exact", () => {
    const stops = sliderStops(kjvLike);
    expect(stops.map((s) => s.knob)).toEqual([0, 0.4, 0.8, 1]);
    expect(stops[0]).toEqual({ knob: 0, agreement: 1, meanExitLayer: 16, speedup: 1 });
    const labels = stops.map((s) => describeStop(kjvLike, s));
    expect(labels).toEqual([
      "Full depth · 1.00x · 100% same tokens",
      "1.30x faster · 97% same tokens",
      "1.45x faster · 93% same tokens",
      "1.61x faster · 90% same tokens",
    ]);
    for (let i = 1; i < stops.length; i++) {
      expect(stops[i].speedup).toBeGreaterThan(stops[i - 1].speedup);
      expect(stops[i].agreement).toBeLessThan(stops[i - 1].agreement);
    }
  });

  it("start at the lossless stop's measured speed where it pays; early exit slower than it is left out", () => {
    const fast = makeModel({
      calibration: { status: "calibrated", curve: noisy, lossless: { speedup: 1.35 } },
    });
    expect(describeExact(fast)).toBe("Exact · 1.35x faster · 100% same tokens");
    expect(sliderStops(fast).map((s) => s.knob)).toEqual([0, 0.8, 1]);
    const plain = makeModel({
      calibration: { status: "calibrated", curve: noisy, lossless: { speedup: 1.02 } },
    });
    expect(describeExact(plain)).toBe("Full depth · 1.00x · 100% same tokens");
  });

  it("never prints 100% for a point that is not exact, and reads a curve written in percent", () => {
    expect(formatAgreement(0.9996)).toBe("99.9");
    expect(formatAgreement(0.994)).toBe("99.4");
    expect(formatAgreement(0.979)).toBe("97");
    expect(formatAgreement(97)).toBe("97");
    expect(formatAgreement(1)).toBe("100");
  });

  it("finds the stop nearest a stored knob value", () => {
    const stops = sliderStops(kjvLike);
    expect(nearestStop(stops, 0)).toBe(0);
    expect(nearestStop(stops, 0.3)).toBe(1);
    expect(nearestStop(stops, 0.95)).toBe(3);
    expect(nearestStop([], 0.5)).toBe(0);
  });
});

describe("knobAvailability", () => {
  it("says once that early exit does not pay where no setting measured faster, keeping the exact stop's number", () => {
    const slow = makeModel({
      name: "tiny",
      calibration: {
        status: "calibrated",
        curve: [
          { knob: 0.5, agreement: 0.97, meanExitLayer: 4.7, speedup: 0.92 },
          { knob: 1, agreement: 0.92, meanExitLayer: 4.4, speedup: 1.0 },
        ],
        lossless: { speedup: 1.3 },
      },
    });
    const a = knobAvailability(slow);
    expect(a.enabled).toBe(false);
    if (!a.enabled) {
      expect(a.label).toBe(`${NO_SPEEDUP} · Exact · 1.30x faster · 100% same tokens`);
      expect(a.label).not.toMatch(/slower/);
      expect(a.model).toBe(slow);
    }
  });

  it("shows calibration progress while it runs", () => {
    const a = knobAvailability(makeModel({ name: "kjv" }), 0.4);
    expect(a).toEqual({
      enabled: false,
      label: "Calibrating… 40%",
      reason: expect.stringContaining("kjv is being calibrated (40%)"),
    });
  });

  it("disables the slider with a reason when there is no model or no calibration", () => {
    expect(knobAvailability(null)).toEqual({
      enabled: false,
      label: "No model",
      reason: expect.stringContaining("Choose a model"),
    });
    const raw = makeModel({ name: "tiny", calibration: { status: "none", curve: [] } });
    const a = knobAvailability(raw);
    expect(a.enabled).toBe(false);
    if (!a.enabled) expect(a.reason).toMatch(/tiny has not been calibrated/);
    expect(knobAvailability(makeModel()).enabled).toBe(true);
  });
});
