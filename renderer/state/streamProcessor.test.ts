import { describe, expect, it } from "vitest";
import {
  applyDone,
  applyStreamEvents,
  applyToken,
  applyTokens,
  createStreamingMessage,
  interruptMessage,
  liveStats,
  type TokenEvent,
} from "./streamProcessor";

const tok = (index: number, text: string, exitLayer: number, ms = 10, messageId = "a1"): TokenEvent => ({
  conversationId: "c1",
  messageId,
  index,
  tokenId: 100 + index,
  text,
  exitLayer,
  ms,
});

describe("stream processor", () => {
  it("appends text, exit layer, token text and timing in order", () => {
    let m = createStreamingMessage("c1", "a1", "model");
    m = applyToken(m, tok(0, "Once", 8, 120), 8);
    m = applyToken(m, tok(1, " upon", 3));
    m = applyToken(m, tok(2, " a", 2));
    expect(m.content).toBe("Once upon a");
    expect(m.exitLayers).toEqual([8, 3, 2]);
    expect(m.tokenTexts).toEqual(["Once", " upon", " a"]);
    expect(m.tokenMs).toEqual([120, 10, 10]);
    expect(m.layers).toBe(8);
    expect(m.streaming).toBe(true);
  });

  it("is pure: the input message is not modified", () => {
    const m = createStreamingMessage("c1", "a1", null);
    const frozen = structuredClone(m);
    const next = applyToken(m, tok(0, "x", 1));
    expect(m).toEqual(frozen);
    expect(next).not.toBe(m);
  });

  it("ignores duplicate indexes and tokens of other messages (same object back)", () => {
    const m = applyTokens(createStreamingMessage("c1", "a1", null), [tok(0, "a", 1), tok(1, "b", 2)]);
    expect(applyToken(m, tok(1, "b", 2))).toBe(m);
    expect(applyToken(m, tok(2, "z", 2, 10, "other"))).toBe(m);
  });

  it("applies a batch with one copy and keeps the last layer count", () => {
    const batch = Array.from({ length: 100 }, (_, i) => tok(i, `t${i} `, 1 + (i % 8)));
    const m = applyTokens(createStreamingMessage("c1", "a1", null), batch);
    expect(m.exitLayers).toHaveLength(100);
    expect(m.content.startsWith("t0 t1 t2")).toBe(true);
  });

  it("computes live statistics from what has streamed so far", () => {
    const m = applyTokens(
      createStreamingMessage("c1", "a1", null),
      [tok(0, "a", 8, 200), tok(1, "b", 4, 20), tok(2, "c", 2, 30)],
      8,
    );
    const s = liveStats(m);
    expect(s.tokens).toBe(3);
    expect(s.timeToFirstTokenMs).toBe(200);
    // decode speed: 2 tokens in 50 ms
    expect(s.tokensPerSecond).toBeCloseTo(40);
    expect(s.meanExitLayer).toBeCloseTo(14 / 3);
    expect(s.layers).toBe(8);
  });

  it("seals a message with the engine's stats on done; later tokens do not reopen it", () => {
    let m = applyTokens(createStreamingMessage("c1", "a1", null), [tok(0, "a", 8)]);
    m = applyDone(m, {
      conversationId: "c1",
      messageId: "a1",
      stats: {
        tokens: 1,
        tokensPerSecond: 9,
        timeToFirstTokenMs: 5,
        meanExitLayer: 8,
        layers: 8,
        stopReason: "eos",
      },
    });
    expect(m.streaming).toBe(false);
    expect(liveStats(m).tokensPerSecond).toBe(9);
    m = applyToken(m, tok(1, "late", 1));
    expect(m.streaming).toBe(false);
  });

  it("marks an error answer", () => {
    const m = applyDone(createStreamingMessage("c1", "a1", null), {
      conversationId: "c1",
      messageId: "a1",
      stats: {
        tokens: 0,
        tokensPerSecond: 0,
        timeToFirstTokenMs: 0,
        meanExitLayer: 0,
        layers: 8,
        stopReason: "error",
      },
      error: "out of memory",
    });
    expect(m.error).toMatch(/^Your computer ran out of memory for this answer\. Close other programs/);
    expect(m.errorDetail).toBe("out of memory");
  });

  it("ends the last token with the text the engine held back, as the stored message has it", () => {
    const streamed = applyTokens(createStreamingMessage("c1", "a1", null), [
      tok(0, "The ", 2),
      tok(1, "en", 4),
    ]);
    const m = applyDone(streamed, {
      conversationId: "c1",
      messageId: "a1",
      stats: {
        tokens: 2,
        tokensPerSecond: 5,
        timeToFirstTokenMs: 1,
        meanExitLayer: 3,
        layers: 8,
        stopReason: "max_tokens",
        tail: "d",
      },
    });
    expect(m.content).toBe("The end");
    expect(m.tokenTexts).toEqual(["The ", "end"]);
    expect(m.stats).not.toHaveProperty("tail");
    expect(streamed.tokenTexts).toEqual(["The ", "en"]); // pure: the streamed message is unchanged
  });

  it("interrupts a streaming message locally with stats from what arrived", () => {
    const m = interruptMessage(
      applyTokens(createStreamingMessage("c1", "a1", null), [tok(0, "a", 2), tok(1, "b", 4)]),
      "stopped",
    );
    expect(m.streaming).toBe(false);
    expect(m.stats?.stopReason).toBe("stopped");
    expect(m.stats?.tokens).toBe(2);
  });

  it("routes a batch to the right messages and creates the answer when tokens beat the reply", () => {
    const user = { ...createStreamingMessage("c1", "u1", null), role: "user" as const, streaming: false };
    const list = [user];
    expect(applyStreamEvents(list, "c1", [])).toBe(list);
    expect(applyStreamEvents(list, "c2", [tok(0, "x", 1)])).toBe(list);
    const next = applyStreamEvents(list, "c1", [tok(0, "Hi", 3), tok(1, "!", 2)], "m");
    expect(next).toHaveLength(2);
    expect(next[1].id).toBe("a1");
    expect(next[1].content).toBe("Hi!");
    expect(next[1].modelId).toBe("m");
    expect(next[0]).toBe(user);
  });
});
