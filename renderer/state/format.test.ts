import { describe, expect, it } from "vitest";
import {
  describeStopReason,
  describeContextTrim,
  formatBytes,
  formatEta,
  formatLoadProgress,
  formatMemory,
  formatMs,
  formatParams,
  formatRate,
  formatSpeed,
  formatWhen,
} from "./format";

describe("format", () => {
  it("bytes, memory, parameters", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1_234_000)).toBe("1.23 MB");
    expect(formatBytes(619_800_000)).toBe("620 MB");
    expect(formatBytes(-1)).toBe("—");
    expect(formatMemory(8 * 2 ** 30)).toBe("8.0 GiB");
    expect(formatMemory(512 * 2 ** 20)).toBe("512 MiB");
    expect(formatParams(260_000)).toBe("260K");
    expect(formatParams(1_100_000_000)).toBe("1.1B");
    expect(formatParams(124_700_000)).toBe("125M");
    expect(formatParams(7_000_000_000)).toBe("7B");
  });
  it("times and rates", () => {
    expect(formatMs(45.4)).toBe("45 ms");
    expect(formatMs(1520)).toBe("1.52 s");
    expect(formatRate(0)).toBe("—");
    expect(formatRate(4.26)).toBe("4.3 tok/s");
    expect(formatRate(246.4)).toBe("246 tok/s");
  });
  it("relative dates", () => {
    const now = new Date(2025, 5, 10, 15, 0);
    expect(formatWhen(new Date(2025, 5, 9, 10, 0).toISOString(), now)).toBe("Yesterday");
    expect(formatWhen("nonsense", now)).toBe("");
  });
  it("stop reasons in words", () => {
    expect(describeStopReason("eos")).toBe("");
    expect(describeStopReason("stopped")).toBe("Stopped");
    expect(describeStopReason("context_full")).toMatch(/context/);
    expect(describeContextTrim({})).toBe("");
    expect(describeContextTrim({ droppedMessages: 1 })).toMatch(/^The oldest message was left out/);
    expect(describeContextTrim({ droppedMessages: 4 })).toMatch(/^The 4 oldest messages were left out/);
    expect(describeContextTrim({ droppedTokens: 90 })).toMatch(/\(90 tokens\)/);
  });

  it("load progress only for the model being loaded", () => {
    expect(formatLoadProgress({ modelId: "a", progress: 0.456 }, "a")).toBe(" 46%");
    expect(formatLoadProgress({ modelId: "a", progress: 0.456 }, "b")).toBe("");
    expect(formatLoadProgress(undefined, "a")).toBe("");
  });
});

describe("download speed and time left", () => {
  it("shows speed in MB/s, below 1 MB/s in KB/s, and a dash without a speed", () => {
    expect(formatSpeed(1_234_567)).toBe("1.2 MB/s");
    expect(formatSpeed(25_000_000)).toBe("25 MB/s");
    expect(formatSpeed(400_000)).toBe("400 KB/s");
    expect(formatSpeed(0)).toBe("—");
    expect(formatSpeed(Number.NaN)).toBe("—");
  });

  it("shows seconds, minutes and hours left, rounding up, and a dash when unknown", () => {
    expect(formatEta(null)).toBe("—");
    expect(formatEta(0.2)).toBe("1 s left");
    expect(formatEta(42)).toBe("42 s left");
    expect(formatEta(60)).toBe("1 min left");
    expect(formatEta(95)).toBe("1 min 35 s left");
    expect(formatEta(7300)).toBe("2 h 1 min left");
    expect(formatEta(-1)).toBe("—");
  });
});
