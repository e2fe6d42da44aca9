// The engine host the app runs is the bundle dist/engine/host.cjs, not the TypeScript source the
// other tests start. Forked exactly as the web host forks it (the desktop app forks the same file
// as a utility process), it must find the native kernels, run a real model on them, and start
// without a line on stderr. Under CI (EXITLANE_REQUIRE_NATIVE=1) missing kernels fail this test.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineClient } from "../electron/services/engine-client.js";
import { forkNodeHost } from "../electron/services/host-process.js";
import { loadNativeKernels } from "../native-models/kernels/index.js";
import { haveShared, kjv16 } from "../native-models/test-support/shared-fixtures.js";
import { makeTempDir } from "../native-models/test-support/temp-files.js";
import { buildBundles, isUpToDate, root } from "./build.js";

const required = process.env.EXITLANE_REQUIRE_NATIVE === "1";
const source = loadNativeKernels({ env: {} });
const hostBundle = path.join(root, "dist", "engine", "host.cjs");
const tmp = makeTempDir("exitlane-host-bundle-");
let stderr = "";
let engine: EngineClient;

beforeAll(async () => {
  if (!isUpToDate() || !existsSync(hostBundle)) await buildBundles();
  engine = new EngineClient({
    spawn: forkNodeHost(hostBundle, { env: { ...process.env }, onStderr: (chunk) => (stderr += chunk) }),
  });
  await engine.start();
}, 120_000);
afterAll(async () => {
  await engine?.close();
  tmp.cleanup();
});

describe("the built engine host (dist/engine/host.cjs), forked as the app forks it", () => {
  it("says which native kernels it runs, or exactly why none", async () => {
    if (required) expect(source.available, source.detail).toBe(true);
    const info = await engine.request("info", {});
    expect(info.nativeKernels.available, info.nativeKernels.detail).toBe(source.available);
    if (source.available) {
      // The same kernel set as the source tree's loader sees, the best first.
      expect(info.nativeKernels.kernels).toEqual(source.kernels);
      expect(info.nativeKernels.detail).toContain(`native kernels (${source.kernels[0]})`);
    } else {
      expect(info.nativeKernels.kernels).toEqual([]);
      expect(info.nativeKernels.detail).toMatch(/\S/);
    }
  });

  it.runIf(haveShared("models/kjv16/kjv16-q8_0.gguf"))(
    "imports and loads kjv16 onto the native kernels and answers with them",
    { timeout: 180_000 },
    async () => {
      const { model } = await engine.request("importModel", {
        jobId: "bundle-import",
        source: kjv16.ggufQ8,
        modelsDir: tmp.dir,
      });
      const loaded = await engine.request("load", {
        modelsDir: tmp.dir,
        modelId: model.id,
        threads: 2,
        executionProvider: "cpu",
        contextLength: 256,
      });
      if (source.available) {
        expect(loaded.kernels).toBe(`native ${source.kernels[0]}`);
        expect(loaded.nativeNotice).toBeUndefined();
      } else {
        expect(loaded.kernels).toMatch(/onnxruntime/);
        expect(loaded.nativeNotice).toMatch(/not available here/);
      }
      const tokens: string[] = [];
      const off = engine.onEvent((e) => {
        if (e.event === "tokens" && e.genId === "bundle-gen") tokens.push(...e.tokens.map((t) => t.text));
      });
      const stats = await engine.request("generate", {
        genId: "bundle-gen",
        modelId: model.id,
        prompt: "And God said,",
        sampling: {
          temperature: 0,
          topP: 1,
          topK: 0,
          minP: 0,
          repetitionPenalty: 1,
          maxTokens: 24,
          seed: null,
        },
        knob: 0,
      });
      off();
      expect(stats.tokens).toBeGreaterThan(0);
      // Every token the reply counts came as an event before it.
      expect(tokens.length).toBe(stats.tokens);
      expect(tokens.join("")).toMatch(/\w/);
      // A model on the native kernels leaves onnxruntime unloaded (~12 MB it would keep resident);
      // the About panel's onnxruntime facts came from the provider probe's child process.
      if (source.available && process.platform === "linux")
        expect(readFileSync(`/proc/${engine.pid}/maps`, "utf8")).not.toMatch(/onnxruntime/);
    },
  );

  it("wrote nothing to stderr: no onnxruntime, provider or Vulkan lines on a normal start", () => {
    expect(stderr).toBe("");
  });
});
