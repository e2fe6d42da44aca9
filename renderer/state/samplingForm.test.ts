import { describe, expect, it } from "vitest";
import { defaultSampling } from "../test/fakeApi";
import { parseDraft, sameSampling, toDraft } from "./samplingForm";

describe("sampling form", () => {
  it("round-trips through the draft", () => {
    const r = parseDraft(toDraft(defaultSampling));
    expect(r).toEqual({ ok: true, sampling: defaultSampling });
    expect(sameSampling(defaultSampling, { ...defaultSampling })).toBe(true);
  });
  it("treats an empty seed as random and parses a seed", () => {
    expect(parseDraft({ ...toDraft(defaultSampling), seed: "" })).toMatchObject({
      ok: true,
      sampling: { seed: null },
    });
    expect(parseDraft({ ...toDraft(defaultSampling), seed: "42" })).toMatchObject({
      ok: true,
      sampling: { seed: 42 },
    });
  });
  it("leaves an empty max tokens automatic (null) and keeps a number the user typed", () => {
    expect(toDraft({ ...defaultSampling, maxTokens: null }).maxTokens).toBe("");
    expect(parseDraft({ ...toDraft(defaultSampling), maxTokens: "" })).toMatchObject({
      ok: true,
      sampling: { maxTokens: null },
    });
    expect(parseDraft({ ...toDraft(defaultSampling), maxTokens: "300" })).toMatchObject({
      ok: true,
      sampling: { maxTokens: 300 },
    });
  });
  it("reports every bad field in words", () => {
    const r = parseDraft({
      ...toDraft(defaultSampling),
      temperature: "9",
      topK: "2.5",
      maxTokens: "0",
      minP: "abc",
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.temperature).toMatch(/between 0 and 5/);
      expect(r.errors.topK).toMatch(/whole number/);
      expect(r.errors.maxTokens).toMatch(/between 1 and 32768/);
      expect(r.errors.minP).toMatch(/number/);
      expect(r.errors.topP).toBeUndefined();
    }
  });
});
