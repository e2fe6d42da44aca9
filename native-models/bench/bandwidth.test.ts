// The benchmark's bandwidth figures: the probe measures something, and each engine's bytes per
// token are its layer and head weights without the embedding table (kjv16 has a separate head).
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { haveShared, kjv16 } from "../test-support/shared-fixtures.js";
import { makeTempDir } from "../test-support/temp-files.js";
import { importModel } from "../engine/import-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import { bandwidthUse, engineBytesPerToken, ggufBytesPerToken, readBandwidthGBps } from "./bandwidth.js";
import { startBackgroundLoad } from "./background-load.js";

describe("bench bandwidth figures", () => {
  it("turns bytes per token and tokens/s into GB/s and a share of the limit", () => {
    expect(bandwidthUse(2e9, 10, 25)).toEqual({
      bytesPerToken: 2e9,
      weightReadGBps: 20,
      percentOfReadBandwidth: 80,
    });
    expect(bandwidthUse(2e9, 10, null)).toEqual({ bytesPerToken: 2e9, weightReadGBps: 20 });
  });

  it.runIf(loadNativeKernels().available)("probes a read bandwidth", () => {
    const gbps = readBandwidthGBps(2)!;
    expect(gbps).toBeGreaterThan(0.5);
    expect(gbps).toBeLessThan(5000);
  });

  describe.runIf(haveShared("models/kjv16/kjv16-q8_0.gguf"))("on kjv16", () => {
    it("counts every tensor but the embedding table, for llama.cpp and for our package", async () => {
      // Q8_0 embedding: 4096 x 192 values in blocks of 32 (34 bytes each).
      const embedding = (4096 * 192 * 34) / 32;
      const file = statSync(kjv16.ggufQ8).size;
      const perToken = await ggufBytesPerToken(kjv16.ggufQ8);
      // What is left beside the tensors: header, metadata (the vocabulary) and alignment padding.
      expect(perToken + embedding).toBeLessThanOrEqual(file);
      expect(perToken + embedding).toBeGreaterThan(file - 200_000);

      const tmp = makeTempDir("exitlane-bandwidth-");
      try {
        const r = await importModel(kjv16.ggufQ8, { modelsDir: tmp.dir, quant: "int8", threads: 2 });
        const ours = await engineBytesPerToken(r.dir, r.manifest);
        // The same weights as int8 with fp32/fp16 block scales: within a few percent of Q8_0's.
        expect(ours / perToken).toBeGreaterThan(0.9);
        expect(ours / perToken).toBeLessThan(1.25);
      } finally {
        tmp.cleanup();
      }
    }, 120_000);
  });

  it("starts and stops a background load process", async () => {
    const load = await startBackgroundLoad(1);
    const gone = new Promise((resolve) => load.once("exit", resolve));
    expect(load.kill()).toBe(true);
    await gone;
    expect(load.exitCode !== null || load.signalCode !== null).toBe(true);
  });
});
