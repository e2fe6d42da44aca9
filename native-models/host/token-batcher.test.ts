import { describe, expect, it } from "vitest";
import type { TokenFields } from "../../wire/generation.js";
import { TokenBatcher } from "./token-batcher.js";

const token = (index: number): TokenFields => ({
  index,
  tokenId: index,
  text: `t${index}`,
  exitLayer: 1,
  ms: 0,
});

describe("TokenBatcher", () => {
  it("sends a token at once after a quiet spell, batches a fast run, and flushes the rest", () => {
    let clock = 0;
    const sent: number[][] = [];
    const b = new TokenBatcher(
      (ts) => sent.push(ts.map((t) => t.index)),
      4,
      () => clock,
    );
    b.add(token(0)); // the first token: at once
    clock = 1;
    b.add(token(1));
    clock = 2;
    b.add(token(2));
    clock = 4; // 4 ms since the last message: this one goes with the two before it
    b.add(token(3));
    clock = 5;
    b.add(token(4));
    expect(sent).toEqual([[0], [1, 2, 3]]);
    b.flush();
    b.flush(); // nothing left: no empty message
    expect(sent).toEqual([[0], [1, 2, 3], [4]]);
    clock = 100; // a slow model: every token alone, with no delay
    b.add(token(5));
    clock = 200;
    b.add(token(6));
    expect(sent.slice(3)).toEqual([[5], [6]]);
  });
});
