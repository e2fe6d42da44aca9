import { describe, expect, it } from "vitest";
import { describeReading, interpolateCurve, knobAvailability } from "./calibration";
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

  it("disables the slider with a reason when there is no model or no calibration", () => {
    expect(knobAvailability(null)).toEqual({
      enabled: false,
      reason: expect.stringContaining("Choose a model"),
    });
    const raw = makeModel({ name: "tiny", calibration: { status: "none", curve: [] } });
    const a = knobAvailability(raw);
    expect(a.enabled).toBe(false);
    if (!a.enabled) expect(a.reason).toMatch(/tiny has not been calibrated/);
    expect(knobAvailability(makeModel()).enabled).toBe(true);
  });
});
