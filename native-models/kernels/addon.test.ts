// The native kernel against the TS reference (same quantization: results agree to float rounding)
// and against float64 math (agreement within quantization error). Skipped when the addon is not
// built, unless EXITLANE_REQUIRE_NATIVE=1 (CI's "with addon" leg) turns that into a failure.
import { existsSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { loadNativeKernels, type SparseFfnWeights, type SparseIsa } from "./index.js";
import { createReferenceFfn, floatFfn } from "../test-support/kernel-reference.js";
import { randomFfn, randomInput, relativeError, thresholdFor } from "../test-support/kernel-synthetic.js";

const kernel = loadNativeKernels();
const required = process.env.EXITLANE_REQUIRE_NATIVE === "1";

describe("native kernels availability", () => {
  it.runIf(required)("is available (EXITLANE_REQUIRE_NATIVE=1)", () => {
    expect(kernel.detail).toMatch(/^native kernels/);
    expect(kernel.available).toBe(true);
  });
});

describe.runIf(kernel.available)("native sparse FFN", () => {
  if (!kernel.available) return;
  const k = kernel;
  const tmp = makeTempDir("exitlane-sparse-");
  afterAll(() => tmp.cleanup());
  // Every kernel set this CPU runs (AVX-512 VNNI, AVX2, scalar here), so all paths are checked.
  const isas = k.kernels.map(
    (n) => ({ "avx512-vnni": "avx512", "avx512-amx": "amx" })[n] ?? n,
  ) as SparseIsa[];

  const w = randomFfn(256, 384, 21);
  const xs = [0, 1, 2].map((i) => randomInput(256, 40 + i));

  function compare(
    weights: SparseFfnWeights,
    isa: SparseIsa,
    threads: number,
    x: Float32Array,
    threshold: number,
  ) {
    const ffn = k.createFfn({ ...weights, isa, threads });
    const ref = createReferenceFfn(weights);
    const out = new Float32Array(weights.d);
    const expected = new Float32Array(weights.d);
    const got = ffn.run(x, out, threshold);
    const want = ref.run(x, expected, threshold);
    ffn.close();
    return { got, want, out, expected };
  }

  describe.each(isas)("%s", (isa) => {
    it.each([
      [8, 32],
      [8, 64],
      [8, 128],
      [8, 256],
      [4, 32],
      [4, 64],
      [4, 128],
      [4, 256],
    ] as const)(
      "int%i block %i matches the TS reference, dense and sparse, 1 and 2 threads",
      (bits, blockSize) => {
        const weights = { ...w, bits, blockSize };
        const acts = new Float32Array(384);
        createReferenceFfn(weights).run(xs[0], new Float32Array(256), 0, acts);
        for (const frac of [1, 0.75, 0.5, 0.25]) {
          const t = thresholdFor([acts], frac);
          for (const threads of [1, 2]) {
            const { got, want, out, expected } = compare(weights, isa, threads, xs[0], t);
            // Same integer codes on both sides; only float summation order differs (~1e-7 relative),
            // so the active set is identical unless a gate sits within rounding of the threshold.
            expect(Math.abs(got.active - want.active)).toBeLessThanOrEqual(1);
            expect(relativeError(out, expected)).toBeLessThan(got.active === want.active ? 2e-5 : 1e-2);
          }
        }
      },
    );
  });

  it.each([
    [8, 0.025],
    [4, 0.25],
  ] as const)(
    "int%i stays within quantization error of float64 math (see reference.test.ts)",
    (bits, tol) => {
      const ffn = k.createFfn({ ...w, bits, threads: 2 });
      const out = new Float32Array(256);
      for (const x of xs) {
        expect(ffn.run(x, out, 0).active).toBe(384);
        expect(relativeError(out, floatFfn(w, x).out)).toBeLessThan(tol);
      }
    },
  );

  it("reports SiLU(gate) of every neuron, in dense and sparse runs", () => {
    const ffn = k.createFfn({ ...w, threads: 2 });
    const ref = createReferenceFfn(w);
    const [a, b, c] = [0, 1, 2].map(() => new Float32Array(384));
    ref.run(xs[1], new Float32Array(256), 0, a);
    ffn.run(xs[1], new Float32Array(256), 0, b);
    ffn.run(xs[1], new Float32Array(256), 0.3, c);
    expect(relativeError(b, a)).toBeLessThan(1e-5);
    expect(c).toEqual(b);
  });

  it.each([
    [1, 1, 32],
    [33, 7, 32],
    [100, 37, 64],
    [100, 5, 256],
    [300, 130, 128],
  ])("handles d=%i ffn=%i (not multiples of block %i) by zero padding", (d, ffn, blockSize) => {
    const weights = { ...randomFfn(d, ffn, d + ffn), blockSize: blockSize as 32 };
    const x = randomInput(d, 9);
    for (const bits of [8, 4] as const) {
      for (const isa of isas) {
        const { got, want, out, expected } = compare({ ...weights, bits }, isa, 2, x, 0);
        expect(got.active).toBe(ffn);
        expect(want.active).toBe(ffn);
        expect(relativeError(out, expected)).toBeLessThan(2e-5);
      }
    }
  });

  it("gives bit-identical results for 1 and 2 threads and repeated calls (fixed stripes)", () => {
    const big = { ...randomFfn(256, 1000, 8), bits: 4 as const };
    const ffn = k.createFfn({ ...big, threads: 1 });
    const first = new Float32Array(256);
    ffn.run(xs[0], first, 0.05);
    for (const threads of [2, 1, 2, 3]) {
      ffn.setThreads(threads);
      for (let i = 0; i < 5; i++) {
        const again = new Float32Array(256);
        ffn.run(xs[0], again, 0.05);
        expect(again).toEqual(first);
      }
    }
  });

  it("gives the same bits with the planar row order (kept for layout experiments)", () => {
    const create = (order: "interleaved" | "planar") =>
      (k.createFfn as (o: object) => ReturnType<typeof k.createFfn>)({ ...w, bits: 4, threads: 2, order });
    const [a, b] = [new Float32Array(256), new Float32Array(256)];
    create("interleaved").run(xs[0], a, 0.1);
    const planar = create("planar");
    expect(planar.info.order).toBe("planar");
    planar.run(xs[0], b, 0.1);
    expect(b).toEqual(a);
  });

  it("runAsync gives the same result as run", async () => {
    const ffn = k.createFfn({ ...w, threads: 2 });
    const [a, b] = [new Float32Array(256), new Float32Array(256)];
    const sync = ffn.run(xs[2], a, 0.2);
    const pending = ffn.runAsync(xs[2], b, 0.2);
    expect(() => ffn.run(xs[2], a, 0.2)).toThrow(/busy/);
    expect(await pending).toEqual(sync);
    expect(b).toEqual(a);
    await expect(ffn.runAsync(new Float32Array(256).fill(NaN), b, 0)).rejects.toThrow(/x contains NaN/);
    expect(ffn.run(xs[2], b, 0.2)).toEqual(sync); // usable again after a rejected call
  });

  it("saves and loads the laid-out weights byte for byte", () => {
    for (const bits of [8, 4] as const) {
      const ffn = k.createFfn({ ...w, bits, blockSize: 64, threads: 2 });
      const file = path.join(tmp.dir, `ffn${bits}.bin`);
      ffn.save(file);
      const loaded = k.loadFfn(file, { threads: 2 });
      expect(loaded.info).toEqual(ffn.info);
      const [a, b] = [new Float32Array(256), new Float32Array(256)];
      ffn.run(xs[0], a, 0.1);
      loaded.run(xs[0], b, 0.1);
      expect(b).toEqual(a);
      loaded.save(`${file}.again`);
      expect(readFileSync(`${file}.again`).equals(readFileSync(file))).toBe(true);
      expect(readFileSync(file).length).toBe(64 + ffn.info.bytes);
    }
  });

  it("rejects damaged or foreign weight files with a clear error", () => {
    const good = path.join(tmp.dir, "good.bin");
    k.createFfn({ ...w, threads: 1 }).save(good);
    const bytes = readFileSync(good);
    const truncated = tmp.write("truncated.bin", bytes.subarray(0, bytes.length - 100));
    const foreign = tmp.write(
      "foreign.bin",
      Buffer.from("GGUF and then some other bytes that are not ours at all......................"),
    );
    const trailing = tmp.write("trailing.bin", Buffer.concat([bytes, Buffer.from([1])]));
    expect(() => k.loadFfn(path.join(tmp.dir, "missing.bin"))).toThrow(/cannot open .*missing\.bin/);
    expect(() => k.loadFfn(truncated)).toThrow(/truncated/);
    expect(() => k.loadFfn(foreign)).toThrow(/not a native FFN file/);
    expect(() => k.loadFfn(trailing)).toThrow(/trailing bytes/);
  });

  it("rejects bad arguments with TypeError/RangeError instead of crashing", () => {
    const d = 64;
    const good = randomFfn(d, 8, 3);
    expect(() => k.createFfn({ ...good, gate: new Float32Array(10) })).toThrow(
      /gate must have 512 elements, got 10/,
    );
    expect(() => k.createFfn({ ...good, down: new Float64Array(512) as unknown as Float32Array })).toThrow(
      /down must be a Float32Array/,
    );
    expect(() => k.createFfn({ ...good, bits: 3 as 4 })).toThrow(/bits must be 4 or 8/);
    expect(() => k.createFfn({ ...good, blockSize: 48 as 32 })).toThrow(
      /blockSize must be 32, 64, 128 or 256/,
    );
    expect(() => k.createFfn({ ...good, d: 0 })).toThrow(/d must be between/);
    expect(() => k.createFfn({ ...good, d: 63.5 })).toThrow(/d must be an integer/);
    expect(() => k.createFfn({ ...good, threads: 0 })).toThrow(/threads must be between/);
    expect(() => k.createFfn({ ...good, isa: "sse9" as SparseIsa })).toThrow(/isa must be one of/);
    const nan = good.up.slice();
    nan[5] = NaN;
    expect(() => k.createFfn({ ...good, up: nan })).toThrow(/non-finite/);
    expect(() => k.createFfn(undefined as never)).toThrow(TypeError);

    const ffn = k.createFfn(good);
    const [x, out] = [new Float32Array(d), new Float32Array(d)];
    expect(() => ffn.run(new Float32Array(d - 1), out, 0)).toThrow(/x must have 64 elements, got 63/);
    expect(() => ffn.run(x, new Float32Array(d + 1), 0)).toThrow(/out must have 64 elements/);
    expect(() => ffn.run(x, out, -1)).toThrow(/threshold must be a finite number/);
    expect(() => ffn.run(x, out, NaN)).toThrow(/threshold must be a finite number/);
    expect(() => ffn.run(x, out, "0.1" as unknown as number)).toThrow(/threshold must be a number/);
    expect(() => ffn.run(x, out, 0, new Float32Array(7))).toThrow(/activations must have 8 elements/);
    expect(() => ffn.run(new Float32Array(d).fill(NaN), out, 0)).toThrow(/x contains NaN or infinity/);
    expect(() => ffn.run(new Float32Array(d).fill(Infinity), out, 0)).toThrow(RangeError);
    expect(() => ffn.run([1, 2] as unknown as Float32Array, out, 0)).toThrow(TypeError);
    expect(() => ffn.setThreads(65)).toThrow(/threads must be an integer between 1 and 64/);
    expect(() => ffn.save(42 as unknown as string)).toThrow(/path must be a string/);
    expect(() => ffn.save(path.join(tmp.dir, "no", "such", "dir", "f.bin"))).toThrow(/cannot open/);
    expect(() => k.probeReadBandwidth(0, 1, 1)).toThrow(RangeError);
    ffn.close();
    expect(() => ffn.run(x, out, 0)).toThrow(/closed/);
    expect(ffn.info).toEqual({ closed: true });
  });

  it("lays out a TinyLlama-size FFN (2048 x 5632) in well under a second", () => {
    // ~0.2-0.4 s with 2 threads here; best of two so a busy shared machine does not fail it.
    const big = randomFfn(2048, 5632, 5);
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const ffn = k.createFfn({ ...big, threads: 2 });
      best = Math.min(best, performance.now() - t0);
      expect(ffn.info).toMatchObject({
        d: 2048,
        ffn: 5632,
        bits: 8,
        blockSize: 32,
        rowBytes: 2176,
        bytes: 3 * 5632 * 2176,
      });
      ffn.close();
    }
    expect(best).toBeLessThan(1000);
  });

  it("loads in a worker thread too (per-environment state)", async () => {
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      const a = require(workerData);
      const d = 64, ffn = 40, w = new Float32Array(d * ffn).map((_, i) => Math.sin(i) * 0.02);
      const f = a.createFfn({ d, ffn, gate: w, up: w, down: w, threads: 2 });
      const out = new Float32Array(d);
      parentPort.postMessage(f.run(new Float32Array(d).fill(0.5), out, 0).active);`;
    const worker = new Worker(code, { eval: true, workerData: k.path });
    const active = await new Promise((resolve, reject) =>
      worker.once("message", resolve).once("error", reject),
    );
    await worker.terminate();
    expect(active).toBe(40);
    expect(existsSync(k.path)).toBe(true);
  });
});
