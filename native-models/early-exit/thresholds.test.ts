import { describe, expect, it } from "vitest";
import { optimiseThresholds, targetAgreement } from "./thresholds.js";

/** 100 calibration positions; the first 20 are verified at `layer`, scored in descending order, and the first 4 are wrong. */
function layer(l: number) {
  const n = 100;
  const scores = new Float32Array(n);
  const verified = new Uint8Array(n);
  const correct = new Uint8Array(n).fill(1);
  for (let i = 0; i < 20; i++) {
    scores[i] = 1 - i / 100;
    verified[i] = 1;
  }
  for (let i = 0; i < 4; i++) correct[i] = 0;
  return { layer: l, scores, verified, correct };
}

describe("optimiseThresholds", () => {
  // Errors e are admitted while e + 2·√e stays within the knob's budget (room for sampling noise).
  it("keeps the simulated errors within the knob's budget (9 of 100 at knob 1, 1 at knob 0.5)", () => {
    expect(targetAgreement(0.5)).toBeCloseTo(0.985);
    expect(targetAgreement(1)).toBeCloseTo(0.91);
    // Four errors: 4 + 2·2 = 8 ≤ 9, so every verified position exits.
    expect(optimiseThresholds([layer(4)], 5, [1]).get(4)![0]).toBeCloseTo(1 - 19 / 100);
    // Even one error (1 + 2 = 3) breaks a budget of 1: nothing exits.
    expect(optimiseThresholds([layer(4)], 5, [0.5]).get(4)![0]).toBeGreaterThan(1);
  });

  it("depth-weighted, counts an error after a deeper skip more than once (masked K/V)", () => {
    // After layer 3 of 5 an error counts twice: two errors (4 + 2·2 = 8) fit 9, a third does not.
    expect(optimiseThresholds([layer(3)], 5, [1], true).get(3)![0]).toBeCloseTo(1 - 1 / 100);
    expect(optimiseThresholds([layer(3)], 5, [0.5], true).get(3)![0]).toBeGreaterThan(1);
  });

  it("never lets a layer exit when even its best group breaks the budget", () => {
    const t = optimiseThresholds([layer(3)], 5, [0.01]).get(3)!;
    expect(t[0]).toBeGreaterThan(1);
  });
});
