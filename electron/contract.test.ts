import { describe, expect, it } from "vitest";
import { defaultMaxTokens, engineSampling, type Sampling } from "./contract.js";

const base: Sampling = {
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  minP: 0.05,
  repetitionPenalty: 1.1,
  maxTokens: null,
  seed: null,
};

describe("the automatic answer length", () => {
  it("is a quarter of the context, at most 1024, at least 1", () => {
    expect(defaultMaxTokens(512)).toBe(128);
    expect(defaultMaxTokens(2048)).toBe(512);
    expect(defaultMaxTokens(32768)).toBe(1024);
    expect(defaultMaxTokens(2)).toBe(1);
  });

  it("is what the engine gets for an automatic chat, and a user's number is kept", () => {
    expect(engineSampling(base, 512).maxTokens).toBe(128);
    expect(engineSampling({ ...base, maxTokens: 500 }, 512).maxTokens).toBe(500);
  });
});
