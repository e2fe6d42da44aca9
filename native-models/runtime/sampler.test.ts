import { describe, expect, it } from "vitest";
import { Sampler, seededRandom } from "./sampler.js";

describe("sampler distribution", () => {
  const rand = seededRandom(3);
  const logits = Float32Array.from({ length: 4096 }, () => 8 * rand() - 4);

  it("over the whole vocabulary keeps every token within min-p of the best, with softmax probabilities", () => {
    const params = { temperature: 0.8, topK: 0, topP: 1, minP: 0.1, repetitionPenalty: 1 };
    const { ids, probs } = new Sampler(params).distribution(logits, []);
    const max = Math.max(...logits);
    const weight = (l: number) => Math.exp((l - max) / params.temperature);
    const kept = [...logits.keys()].filter((i) => weight(logits[i]) >= params.minP);
    expect([...ids].sort((a, b) => a - b)).toEqual(kept);
    const total = kept.reduce((s, i) => s + weight(logits[i]), 0);
    ids.forEach((id, i) => expect(probs[i]).toBeCloseTo(weight(logits[id]) / total, 12));
  });

  it("sorts best first where top-k or top-p needs the order", () => {
    for (const params of [
      { temperature: 1, topK: 40, topP: 1, minP: 0, repetitionPenalty: 1 },
      { temperature: 1, topK: 0, topP: 0.9, minP: 0, repetitionPenalty: 1 },
    ]) {
      const { ids, probs } = new Sampler(params).distribution(logits, []);
      for (let i = 1; i < ids.length; i++) expect(logits[ids[i]]).toBeLessThanOrEqual(logits[ids[i - 1]]);
      expect(probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    }
  });
});
