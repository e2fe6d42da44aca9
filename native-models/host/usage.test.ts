import os from "node:os";
import { describe, expect, it } from "vitest";
import { measureUsage } from "./usage.js";

describe("measureUsage", () => {
  it("reports this process's resident memory and the CPU it used since the last reading", () => {
    measureUsage();
    const until = performance.now() + 300;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const busy = measureUsage();
    expect(x).toBeGreaterThan(0);
    expect(busy.pid).toBe(process.pid);
    expect(busy.rssBytes).toBeGreaterThan(0);
    expect(Math.abs(busy.rssBytes - process.memoryUsage.rss())).toBeLessThan(64 * 2 ** 20);
    // One busy thread: about one core's share of the machine; at least half of that.
    expect(busy.cpuPercent).toBeGreaterThan(50 / os.availableParallelism());
    expect(busy.cpuPercent).toBeLessThanOrEqual(100);
  });
});
