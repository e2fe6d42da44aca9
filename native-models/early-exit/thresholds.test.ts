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
  it("keeps the simulated errors within the knob's budget (5 of 100 at knob 0.5)", () => {
    expect(targetAgreement(0.5)).toBeCloseTo(0.95);
    // Exiting after layer 4 of 5: each error counts once, so all four wrong positions fit the budget.
    const t = optimiseThresholds([layer(4)], 5, [0.5]).get(4)!;
    expect(t[0]).toBeCloseTo(1 - 19 / 100);
  });

  it("counts an error after a deeper skip more than once (its layers' KV is approximate too)", () => {
    // After layer 3 of 5 an error counts twice: two wrong positions use 4 of the 5, a third would not fit.
    const t = optimiseThresholds([layer(3)], 5, [0.5]).get(3)!;
    expect(t[0]).toBeCloseTo(1 - 1 / 100);
  });

  it("never lets a layer exit when even its best group breaks the budget", () => {
    const t = optimiseThresholds([layer(3)], 5, [0.01]).get(3)!;
    expect(t[0]).toBeGreaterThan(1);
  });
});
