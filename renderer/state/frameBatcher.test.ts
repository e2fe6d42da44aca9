import { describe, expect, it } from "vitest";
import { manualScheduler } from "../test/fakeApi";
import { createFrameBatcher, throttledFrameScheduler } from "./frameBatcher";

describe("frame batcher", () => {
  it("delivers everything pushed within a frame at once, in order", () => {
    const frames = manualScheduler();
    const delivered: number[][] = [];
    const b = createFrameBatcher<number>((items) => delivered.push(items), frames.schedule);
    for (let i = 0; i < 500; i++) b.push(i);
    expect(delivered).toHaveLength(0);
    expect(frames.pending).toBe(1); // one frame requested, however many items
    frames.runFrame();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toHaveLength(500);
    expect(delivered[0][499]).toBe(499);
    b.push(1);
    frames.runFrame();
    expect(delivered).toHaveLength(2);
  });

  it("flushes on demand (before a done event) and cancels the pending frame", () => {
    const frames = manualScheduler();
    const delivered: string[][] = [];
    const b = createFrameBatcher<string>((items) => delivered.push(items), frames.schedule);
    b.push("a");
    b.flush();
    expect(delivered).toEqual([["a"]]);
    frames.runFrame();
    expect(delivered).toEqual([["a"]]);
    b.push("b");
    b.dispose();
    frames.runFrame();
    expect(delivered).toEqual([["a"]]);
    expect(b.size).toBe(0);
  });

  it("throttled: the next frame at once after a quiet spell, else not before the interval has passed", async () => {
    const frames = manualScheduler();
    let clock = 0;
    const schedule = throttledFrameScheduler(100, frames.schedule, () => clock);
    const delivered: number[][] = [];
    const b = createFrameBatcher<number>((items) => delivered.push(items), schedule);
    b.push(1);
    expect(frames.pending).toBe(1); // nothing ran lately: the next frame
    frames.runFrame();
    expect(delivered).toEqual([[1]]);
    clock = 10;
    b.push(2);
    b.push(3);
    expect(frames.pending).toBe(0); // waits out the interval before asking for a frame
    await new Promise((r) => setTimeout(r, 120));
    clock = 110;
    expect(frames.pending).toBe(1);
    frames.runFrame();
    expect(delivered).toEqual([[1], [2, 3]]);
    b.push(4);
    b.flush(); // a done event still flushes at once
    expect(delivered).toEqual([[1], [2, 3], [4]]);
  });
});
