import { describe, expect, it } from "vitest";
import { DraftTable } from "./draft-table.js";

const V = 100;

describe("draft table", () => {
  // Sequence 7 8 9 7 8 9 7 8 …: after (7, 8) the model chose 9 three times out of three.
  const cycle = [7, 8, 9, 7, 8, 9, 7, 8, 9, 7];

  it("keeps contexts whose choice was consistent and chains its drafts", () => {
    const t = DraftTable.build([{ ids: cycle, next: cycle.slice(1).concat(8) }], V);
    expect(t.draft([1, 7, 8], 5)).toEqual([9, 7, 8, 9, 7]);
    expect(t.draft([1, 7, 8], 2)).toEqual([9, 7]);
    expect(t.draft([], 3)).toEqual([]);
    // An unseen context has no draft.
    expect(t.draft([1, 2], 3)).toEqual([]);
  });

  it("needs two sightings and a 60% majority", () => {
    const once = DraftTable.build([{ ids: [1, 2], next: [2, 3] }], V);
    expect(once.draft([1, 2], 3)).toEqual([]);
    // After 5 the model chose 6, 6, 4: kept (2 of 3); after 3 it chose 1, 2: a split, not kept.
    const t = DraftTable.build(
      [
        { ids: [0, 5], next: [5, 6] },
        { ids: [9, 5], next: [5, 6] },
        { ids: [8, 5], next: [5, 4] },
        { ids: [3], next: [1] },
        { ids: [3], next: [2] },
      ],
      V,
    );
    expect(t.draft([5], 1)).toEqual([6]);
    expect(t.draft([3], 1)).toEqual([]);
  });

  it("prefers the two-token context and falls back to the last token", () => {
    const t = DraftTable.build(
      [
        { ids: [1, 2, 1, 2, 4, 2, 4, 2], next: [2, 3, 2, 3, 2, 5, 2, 5] },
        { ids: [6, 2, 6, 2], next: [2, 5, 2, 5] },
      ],
      V,
    );
    // (1, 2) -> 3 twice; the one-token context 2 -> 5 four times of six (3 twice).
    expect(t.draft([1, 2], 1)).toEqual([3]);
    expect(t.draft([7, 2], 1)).toEqual([5]);
  });

  it("round-trips through its stored form", () => {
    const t = DraftTable.build([{ ids: cycle, next: cycle.slice(1).concat(8) }], V);
    const back = DraftTable.fromData(JSON.parse(JSON.stringify(t.toData())), V);
    expect(back.size).toBe(t.size);
    expect(back.draft([1, 7, 8], 5)).toEqual(t.draft([1, 7, 8], 5));
  });
});
