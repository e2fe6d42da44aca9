import { describe, expect, it } from "vitest";
import {
  describeExact,
  describeReading,
  interpolateCurve,
  knobAvailability,
  sliderCurve,
} from "./calibration";
import { makeModel } from "../test/fakeApi";

const curve = [
  { knob: 1, agreement: 0.9, meanExitLayer: 2, speedup: 2 },
  { knob: 0, agreement: 1, meanExitLayer: 6, speedup: 1 },
  { knob: 0.5, agreement: 0.98, meanExitLayer: 4, speedup: 1.4 },
];

describe("calibration curve", () => {
  it("interpolates between measured points (unsorted input)", () => {
    const r = interpolateCurve(curve, 0.25)!;
    expect(r.speedup).toBeCloseTo(1.2);
    expect(r.agreement).toBeCloseTo(0.99);
    expect(r.meanExitLayer).toBeCloseTo(5);
    expect(interpolateCurve(curve, 0.5)!.speedup).toBeCloseTo(1.4);
  });

  it("clamps outside the measured range and handles empty or single-point curves", () => {
    expect(interpolateCurve(curve, -1)!.speedup).toBe(1);
    expect(interpolateCurve(curve, 2)!.speedup).toBe(2);
    expect(interpolateCurve([], 0.5)).toBeNull();
    expect(interpolateCurve([curve[2]], 0.9)!.speedup).toBe(1.4);
  });

  it("describes a reading in the product's words", () => {
    expect(describeReading({ knob: 0.5, speedup: 1.4, agreement: 0.98, meanExitLayer: 4 })).toBe(
      "≈1.4x faster · 98% same tokens",
    );
    expect(describeReading({ knob: 0, speedup: 1, agreement: 1, meanExitLayer: 6 })).toBe(
      "same speed · 100% same tokens",
    );
    expect(describeReading({ knob: 0.3, speedup: 1.2, agreement: 0.994, meanExitLayer: 6 })).toBe(
      "≈1.2x faster · 99.4% same tokens",
    );
    expect(describeReading({ knob: 1, speedup: 0.93, agreement: 0.96, meanExitLayer: 4 })).toBe(
      "≈0.93x speed (slower) · 96% same tokens",
    );
    expect(describeReading({ knob: 0.2, speedup: 1.03, agreement: 0.99, meanExitLayer: 4 })).toBe(
      "≈1.03x faster · 99% same tokens",
    );
    // a curve written in percent
    expect(describeReading({ knob: 0.3, speedup: 1.2, agreement: 97, meanExitLayer: 6 })).toBe(
      "≈1.2x faster · 97% same tokens",
    );
  });

  it("reads 1.00x and 100% at 0 unless lossless decoding measured faster, and in order from there", () => {
    const plain = makeModel({
      layers: 6,
      calibration: {
        status: "calibrated",
        curve: curve.filter((p) => p.knob > 0),
        lossless: { speedup: 1.02 },
      },
    });
    expect(describeExact(plain)).toBe("Full depth · 1.00x · same answer");
    expect(sliderCurve(plain)[0]).toEqual({ knob: 0, agreement: 1, meanExitLayer: 6, speedup: 1 });
    const fast = makeModel({
      calibration: {
        status: "calibrated",
        curve: curve.filter((p) => p.knob > 0),
        lossless: { speedup: 1.3 },
      },
    });
    expect(describeExact(fast)).toBe("Exact · ≈1.3x faster · same answer");
    // Between exact (1.3x, 100%) and the first early-exit point.
    const mid = interpolateCurve(sliderCurve(fast), 0.25)!;
    expect(mid.agreement).toBeCloseTo(0.99);
    expect(mid.speedup).toBeCloseTo(1.35);
  });

  it("says once that early exit does not pay where no setting measured faster", () => {
    const slow = makeModel({
      name: "tiny",
      calibration: {
        status: "calibrated",
        curve: [
          { knob: 0.5, agreement: 0.97, meanExitLayer: 4.7, speedup: 0.92 },
          { knob: 1, agreement: 0.92, meanExitLayer: 4.4, speedup: 1.02 },
        ],
      },
    });
    const a = knobAvailability(slow);
    expect(a.enabled).toBe(false);
    if (!a.enabled) {
      expect(a.label).toMatch(/^Early exit does not pay on this model/);
      expect(a.reason).toMatch(/does not speed up tiny/);
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
