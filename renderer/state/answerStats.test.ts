import { describe, expect, it } from "vitest";
import { answerStats } from "./answerStats";
import { createStreamingMessage, applyTokens, applyDone } from "./streamProcessor";

const token = (index: number, exitLayer: number, ms: number) => ({
  conversationId: "c",
  messageId: "a",
  index,
  tokenId: index,
  text: `t${index}`,
  exitLayer,
  ms,
});

describe("answerStats", () => {
  it("sums up a streaming answer: count, decode speed without the first token, depth, early share", () => {
    const m = applyTokens(
      createStreamingMessage("c", "a", null),
      [token(0, 5, 100), token(1, 2, 10), token(2, 5, 10)],
      5,
    );
    expect(answerStats(m)).toEqual({
      tokens: 3,
      tokensPerSecond: 100,
      timeToFirstTokenMs: 100,
      meanExitLayer: 4,
      layers: 5,
      earlyShare: 1 / 3,
      chartLayers: 5,
    });
  });

  it("gives the same object for the same message, new numbers for the next, the engine's once done", () => {
    const first = applyTokens(createStreamingMessage("c", "a", null), [token(0, 1, 50)]);
    expect(answerStats(first)).toBe(answerStats(first));
    expect(answerStats(first).chartLayers).toBe(1);
    const next = applyTokens(first, [token(1, 3, 20)]);
    expect(answerStats(next).tokens).toBe(2);
    const done = applyDone(next, {
      conversationId: "c",
      messageId: "a",
      stats: {
        tokens: 2,
        tokensPerSecond: 42,
        timeToFirstTokenMs: 50,
        meanExitLayer: 2,
        layers: 4,
        stopReason: "eos",
      },
    });
    expect(answerStats(done)).toMatchObject({ tokens: 2, tokensPerSecond: 42, layers: 4, earlyShare: 1 });
  });
});
