import { describe, expect, it } from "vitest";
import { describeSourceBlocks } from "./sourceBlocks";
import { SOURCE_FORM } from "../../electron/contract";

describe("what a package holds of its file's weights", () => {
  it("names the file's own values, a partial keep, a rounding and an old package", () => {
    expect(describeSourceBlocks({ form: SOURCE_FORM, kept: 113, of: 113, types: ["Q4_0"] }, "int4")).toBe(
      "The file's own values (Q4_0)",
    );
    expect(
      describeSourceBlocks({ form: SOURCE_FORM, kept: 98, of: 113, types: ["Q4_K", "Q5_0", "Q6_K"] }, "int8"),
    ).toBe(
      "The file's own values in 98 of 113 matrices; the rest rounded again to int8 (file: Q4_K, Q5_0, Q6_K)",
    );
    expect(
      describeSourceBlocks({ form: SOURCE_FORM, kept: 0, of: 113, types: ["Q4_K", "Q6_K"] }, "int4"),
    ).toBe("The file's Q4_K, Q6_K blocks rounded again to int4");
    expect(describeSourceBlocks({ kept: 0, of: 50, types: ["F32"] }, "int8")).toBe(
      "Quantized from F32 to int8",
    );
    // Before form 2: a 4-bit file's wider matrices at 4 bits, Q4_K rounded again.
    expect(describeSourceBlocks({ kept: 90, of: 113, types: ["Q4_K", "Q5_0"] }, "int4")).toMatch(
      /^Made by an earlier Exitlane.*import the file again/,
    );
    // Form 2 held Q5_K and Q6_K in 8-bit codes, no longer read; its other packages are current.
    expect(describeSourceBlocks({ form: 2, kept: 113, of: 113, types: ["Q4_K", "Q6_K"] }, "int4")).toMatch(
      /^Made by an earlier Exitlane, whose form .* no longer reads: import the file again$/,
    );
    expect(describeSourceBlocks({ form: 2, kept: 113, of: 113, types: ["Q4_0"] }, "int4")).toBe(
      "The file's own values (Q4_0)",
    );
    // Forms 2 and 3 rounded Q4_1 and Q5_1 again (only their embedding was kept).
    for (const form of [2, 3])
      expect(describeSourceBlocks({ form, kept: 1, of: 8, types: ["Q4_1", "Q8_0"] }, "int4")).toMatch(
        /^Made by an earlier Exitlane, which rounded some of the file's Q4_1, Q8_0 blocks again: import the file again/,
      );
    expect(describeSourceBlocks({ form: 3, kept: 8, of: 8, types: ["Q4_K", "Q6_K"] }, "int4")).toBe(
      "The file's own values (Q4_K, Q6_K)",
    );
    expect(describeSourceBlocks(undefined, "int4")).toMatch(
      /^Rounded again at import .*import the file again/,
    );
  });
});
