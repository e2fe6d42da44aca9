import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { runnableProviders, tryProviders } from "./provider-probe.js";
import { getSystemInfo } from "./system-info.js";

describe("execution providers", () => {
  it("lists only providers a session really runs on (CUDA/TensorRT are listed by the build, not runnable without a GPU)", async () => {
    const info = await getSystemInfo();
    const names = info.executionProviders.map((p) => p.name);
    expect(names).toContain("cpu");
    const all = ort.listSupportedBackends().map((b) => b.name);
    const results = await tryProviders(all);
    expect(results.map((r) => r.name)).toEqual(all);
    for (const r of results) {
      // Every provider that runs is offered; every one left out says why it did not run.
      expect(names.includes(r.name), r.name).toBe(r.runs);
      if (!r.runs) expect(r.reason, r.name).toMatch(/\S/);
    }
  });

  it("keeps the CPU and the providers whose trial succeeds, in the listed order", async () => {
    const listed = [
      { name: "cpu", bundled: true },
      { name: "webgpu", bundled: true },
      { name: "cuda", bundled: false },
      { name: "tensorrt", bundled: false },
    ];
    const tried: string[][] = [];
    const trial = async (names: readonly string[]) => {
      tried.push([...names]);
      return names.map((name) => ({
        name,
        runs: name === "cuda",
        reason: name === "cuda" ? undefined : "no library",
      }));
    };
    expect(await runnableProviders(listed, trial)).toEqual([listed[0], listed[2]]);
    expect(tried).toEqual([["webgpu", "cuda", "tensorrt"]]);
  });

  it("reports a probe that cannot start as no provider running, with the reason", async () => {
    const results = await tryProviders(["cuda"], 1);
    expect(results).toEqual([{ name: "cuda", runs: false, reason: expect.any(String) }]);
  });
});
