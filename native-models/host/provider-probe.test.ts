import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { runnableProviders, tryProvider } from "./provider-probe.js";
import { getSystemInfo } from "./system-info.js";

describe("execution providers", () => {
  it("lists only providers a session really runs on (CUDA/TensorRT are listed by the build, not runnable without a GPU)", async () => {
    const info = await getSystemInfo();
    const names = info.executionProviders.map((p) => p.name);
    expect(names).toContain("cpu");
    for (const name of names) expect(await tryProvider(name), name).toBe(true);
    // Every provider the build lists but that cannot run here is left out.
    for (const b of ort.listSupportedBackends()) {
      if (!names.includes(b.name)) expect(await tryProvider(b.name), b.name).toBe(false);
    }
  });

  it("keeps the CPU and the providers whose trial succeeds, in the listed order", async () => {
    const listed = [
      { name: "cpu", bundled: true },
      { name: "webgpu", bundled: true },
      { name: "cuda", bundled: false },
      { name: "tensorrt", bundled: false },
    ];
    const tried: string[] = [];
    const trial = async (name: string) => {
      tried.push(name);
      if (name === "tensorrt") throw new Error("no library");
      return name === "cuda";
    };
    expect(await runnableProviders(listed, trial)).toEqual([listed[0], listed[2]]);
    expect(tried).toEqual(["webgpu", "cuda", "tensorrt"]);
  });
});
