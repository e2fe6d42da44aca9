// The native decode path (attention halves, linear layers, multi-row FFN passes) against float
// math, across every kernel set this CPU runs, and the property lossless decoding rests on: a row's
// result is bit-identical whether it runs alone or with others. Skipped without the addon unless
// EXITLANE_REQUIRE_NATIVE=1.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import {
  loadNativeKernels,
  type KvBuffer,
  type NativeAttention,
  type NativeAttentionWeights,
  type SparseIsa,
} from "./index.js";
import { gaussian, randomFfn, randomInput, relativeError } from "../test-support/kernel-synthetic.js";
import { floatFfn } from "../test-support/kernel-reference.js";
import { float32ToFloat16 } from "../convert/float16.js";

const kernel = loadNativeKernels();

describe.runIf(kernel.available)("native decode kernels", () => {
  if (!kernel.available) return;
  const k = kernel;
  const tmp = makeTempDir("exitlane-decoder-kernels-");
  afterAll(() => tmp.cleanup());
  const isas = k.kernels.map(
    (n) => ({ "avx512-vnni": "avx512", "avx512-amx": "amx" })[n] ?? n,
  ) as SparseIsa[];

  describe.each(isas)("%s", (isa) => {
    // 6 rows, and 37 (two whole tiles of 16 for tile kernels, and a tail of 5).
    it.each([
      [8, 32, 100, 37, 6],
      [8, 128, 256, 300, 37],
      [4, 32, 192, 64, 6],
      [4, 64, 130, 17, 37],
      [4, 128, 256, 40, 37],
    ] as const)(
      "linear int%i block %i (%i -> %i), %i rows, is W·x within quantization error, row by row identical",
      (bits, block, inputs, outputs, rows) => {
        const w = gaussian(inputs * outputs, 0.05, 3);
        const bias = gaussian(outputs, 0.1, 4);
        const lin = k.createLinear({
          outputs,
          inputs,
          bits,
          blockSize: block,
          weights: w,
          bias,
          threads: 2,
          isa,
        });
        const x = Float32Array.from(
          { length: rows * inputs },
          (_, i) => randomInput(inputs, 10 + Math.floor(i / inputs))[i % inputs],
        );
        const y = new Float32Array(rows * outputs);
        lin.run(x, y, rows);
        for (let s = 0; s < rows; s++) {
          const want = new Float32Array(outputs);
          for (let o = 0; o < outputs; o++) {
            let a = bias[o];
            for (let j = 0; j < inputs; j++) a += w[o * inputs + j] * x[s * inputs + j];
            want[o] = a;
          }
          const got = y.subarray(s * outputs, (s + 1) * outputs);
          expect(relativeError(got, want)).toBeLessThan(bits === 8 ? 0.02 : 0.2);
          const alone = new Float32Array(outputs);
          lin.run(x.subarray(s * inputs, (s + 1) * inputs), alone, 1);
          expect(Array.from(alone)).toEqual(Array.from(got));
        }
        lin.close();
      },
    );

    it("FFN rows at once equal one row at a time, sparse and packed dense", () => {
      const w = randomFfn(192, 320, 8);
      const ffn = k.createFfn({ ...w, bits: 8, blockSize: 32, threads: 2, isa });
      const rows = 5;
      const x = new Float32Array(rows * 192);
      for (let s = 0; s < rows; s++) x.set(randomInput(192, 50 + s), s * 192);
      for (const dense of [false, true]) {
        if (dense) ffn.packDense();
        for (const threshold of dense ? [0] : [0, 0.01]) {
          const all = new Float32Array(rows * 192);
          ffn.runRows(x, all, rows, threshold);
          for (let s = 0; s < rows; s++) {
            const one = new Float32Array(192);
            ffn.run(x.subarray(s * 192, (s + 1) * 192), one, threshold);
            expect(Array.from(one)).toEqual(Array.from(all.subarray(s * 192, (s + 1) * 192)));
          }
          // accumulate: out += FFN(x), the residual add a layer does, with float32 sums.
          const residual = randomInput(rows * 192, 70);
          const summed = Float32Array.from(residual);
          ffn.runRows(x, summed, rows, threshold, true);
          expect(Array.from(summed)).toEqual(Array.from(residual, (r, i) => Math.fround(r + all[i])));
          expect(() => ffn.runRows(x, summed, rows, threshold, 1 as unknown as boolean)).toThrow(
            /accumulate must be a boolean/,
          );
        }
      }
      // The packed dense pass computes the same FFN (both forms quantize the same weights).
      const sparseOut = new Float32Array(192);
      const denseOut = new Float32Array(192);
      const fresh = k.createFfn({ ...w, bits: 8, blockSize: 32, threads: 1, isa });
      fresh.run(x.subarray(0, 192), sparseOut, 0);
      ffn.run(x.subarray(0, 192), denseOut, 0);
      expect(relativeError(denseOut, sparseOut)).toBeLessThan(0.02);
      ffn.close();
      fresh.close();
    });

    it.each([4, 8] as const)(
      "a dense-only int%i FFN (one quantization of W_down) saves, loads back and refuses sparse passes",
      (bits) => {
        const d = 128;
        const f = 320;
        const w = randomFfn(d, f, 9);
        const dense = k.createFfn({ ...w, bits, blockSize: 32, threads: 2, isa, form: "dense" });
        expect(dense.info).toMatchObject({ rows: false, packed: true });
        const rows = 11; // past the widest kernel tile (8 rows), so tiles and their tail both run
        const x = new Float32Array(rows * d);
        for (let s = 0; s < rows; s++) x.set(randomInput(d, 90 + s), s * d);
        const all = new Float32Array(rows * d);
        dense.runRows(x, all, rows, 0);
        const file = path.join(tmp.dir, `dense-${bits}-${isa}.ffn`);
        dense.save(file);
        const back = k.loadFfn(file, { threads: 1, isa });
        expect(back.info).toMatchObject({ rows: false, packed: true, d, ffn: f });
        for (let s = 0; s < rows; s++) {
          const one = new Float32Array(d);
          back.run(x.subarray(s * d, (s + 1) * d), one, 0);
          // Bit-identical to the batched pass before saving: same codes, same per-row arithmetic.
          expect(Array.from(one)).toEqual(Array.from(all.subarray(s * d, (s + 1) * d)));
          expect(
            relativeError(one, Float32Array.from(floatFfn(w, x.subarray(s * d, (s + 1) * d)).out)),
          ).toBeLessThan(bits === 8 ? 0.025 : 0.25); // the rows form's bounds (addon.test.ts)
        }
        expect(() => back.run(x.subarray(0, d), new Float32Array(d), 0.01)).toThrow(
          /packed dense form \(rows released\)/,
        );
        expect(() => back.run(x.subarray(0, d), new Float32Array(d), 0, new Float32Array(f))).toThrow(
          /rows released/,
        );
        dense.close();
        back.close();
      },
    );

    it("packDense({ releaseRows }) keeps dense passes and frees the rows", () => {
      const w = randomFfn(96, 160, 12);
      const ffn = k.createFfn({ ...w, bits: 8, blockSize: 32, threads: 1, isa });
      const x = randomInput(96, 5);
      const before = new Float32Array(96);
      ffn.packDense();
      ffn.run(x, before, 0);
      const released = k.createFfn({ ...w, bits: 8, blockSize: 32, threads: 1, isa });
      released.packDense({ releaseRows: true });
      expect(released.info).toMatchObject({ rows: false, packed: true });
      const after = new Float32Array(96);
      released.run(x, after, 0);
      expect(Array.from(after)).toEqual(Array.from(before));
      expect(() => released.run(x, after, 0.01)).toThrow(/rows released/);
      expect(() => released.save(path.join(tmp.dir, "x.ffn"))).not.toThrow(); // saved in its dense form
      ffn.close();
      released.close();
    });

    // Head sizes on and off the kernels' vector widths (their 4-key blocks and one-key tails).
    it.each([16, 24])(
      "attention (head size %i) matches float math and gives each row what it gives alone",
      (headDim) => {
        const cfg = { d: 96, heads: 6, kvHeads: 2, headDim };
        const weights = attentionWeights(cfg, 7);
        const att = k.createAttention({ ...weights, bits: 8, blockSize: 32, threads: 2, isa });
        const capacity = 40;
        const table = rotaryTable(64, cfg.headDim);
        const kvLen = cfg.kvHeads * capacity * cfg.headDim;
        const x = new Float32Array(12 * cfg.d);
        for (let s = 0; s < 12; s++) x.set(randomInput(cfg.d, 70 + s), s * cfg.d);

        // 12 tokens one at a time, then the same 12 as 4 + 8 rows: identical K/V and outputs.
        const runs = [
          [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
          [4, 8],
        ];
        const results = runs.map((sizes) => {
          const key = new Float32Array(kvLen);
          const value = new Float32Array(kvLen);
          return { key, value, ...runInSteps(att, cfg.d, x, table, { key, value, capacity }, sizes) };
        });
        expect(Array.from(results[1].residual)).toEqual(Array.from(results[0].residual));
        expect(Array.from(results[1].key)).toEqual(Array.from(results[0].key));
        const want = referenceAttention(cfg, weights, x, 12, table);
        expect(relativeError(results[0].residual, want)).toBeLessThan(0.02);
        att.close();
      },
    );

    it("a half cache holds each key and value rounded to half and attends as the float cache does", () => {
      // 40 tokens: past the 32 positions the kernels widen from halves at a time.
      const cfg = { d: 96, heads: 6, kvHeads: 2, headDim: 16 };
      const T = 40;
      const weights = attentionWeights(cfg, 11);
      const att = k.createAttention({ ...weights, bits: 8, blockSize: 32, threads: 2, isa });
      const capacity = 48;
      const table = rotaryTable(64, cfg.headDim);
      const kvLen = cfg.kvHeads * capacity * cfg.headDim;
      const x = new Float32Array(T * cfg.d);
      for (let s = 0; s < T; s++) x.set(randomInput(cfg.d, 300 + s), s * cfg.d);
      const run = (key: KvBuffer, value: KvBuffer, sizes: number[]) =>
        runInSteps(att, cfg.d, x, table, { key, value, capacity }, sizes).residual;
      const ones = Array.from({ length: T }, () => 1);
      const [fk, fv, hk, hv] = [
        new Float32Array(kvLen),
        new Float32Array(kvLen),
        new Uint16Array(kvLen),
        new Uint16Array(kvLen),
      ];
      const floats = run(fk, fv, ones);
      const halves = run(hk, hv, ones);
      expect(Array.from(hk)).toEqual(Array.from(float32ToFloat16(fk)));
      expect(Array.from(hv)).toEqual(Array.from(float32ToFloat16(fv)));
      expect(relativeError(halves, floats)).toBeLessThan(2e-3);
      expect(relativeError(halves, floats)).toBeGreaterThan(0); // the halves were used
      // Rows at once: the same outputs as one at a time.
      const batched = run(new Uint16Array(kvLen), new Uint16Array(kvLen), [8, 32]);
      expect(Array.from(batched)).toEqual(Array.from(halves));
      expect(() => run(new Uint16Array(kvLen), new Float32Array(kvLen), [1])).toThrow(
        /value must be a Uint16Array/,
      );
      att.close();
    });
  });

  it("saved attention blocks and linear layers load back to the same outputs", () => {
    const cfg = { d: 64, heads: 4, kvHeads: 4, headDim: 16 };
    const weights = attentionWeights(cfg, 9);
    const att = k.createAttention({ ...weights, bits: 4, blockSize: 32, threads: 1 });
    const file = path.join(tmp.dir, "a.native");
    att.save(file);
    const again = k.loadAttention(file, { threads: 1 });
    const table = rotaryTable(8, 16);
    const outs = [att, again].map((a) => {
      const residual = new Float32Array(64);
      a.run(
        randomInput(64, 1),
        Int32Array.of(0),
        table.cos,
        table.sin,
        new Float32Array(4 * 4 * 16),
        new Float32Array(4 * 4 * 16),
        4,
        0,
        residual,
        new Float32Array(64),
      );
      return Array.from(residual);
    });
    expect(outs[1]).toEqual(outs[0]);
    expect(() => k.loadLinear(file)).toThrow(/not a native linear-layer file/);

    // Packages written before file version 2 (q/k norms, windows, scales, post-norms): the same
    // payload behind the 64-byte version 1 header (magic EXLATTN1, config up to eps) loads alike.
    const v2 = readFileSync(file);
    const v1 = new Uint8Array(64 + v2.length - 128);
    v1.set(v2.subarray(0, 16 + 36));
    v1.set(new TextEncoder().encode("EXLATTN1"), 0);
    new DataView(v1.buffer).setUint32(8, 64, true);
    v1.set(v2.subarray(128), 64);
    writeFileSync(path.join(tmp.dir, "v1.native"), v1);
    const old = k.loadAttention(path.join(tmp.dir, "v1.native"), { threads: 1 });
    const oldResidual = new Float32Array(64);
    old.run(
      randomInput(64, 1),
      Int32Array.of(0),
      table.cos,
      table.sin,
      new Float32Array(4 * 4 * 16),
      new Float32Array(4 * 4 * 16),
      4,
      0,
      oldResidual,
      new Float32Array(64),
    );
    expect(Array.from(oldResidual)).toEqual(outs[0]);
    const lin = k.createLinear({
      outputs: 10,
      inputs: 64,
      weights: gaussian(640, 0.1, 2),
      norm: new Float32Array(64).fill(1),
      eps: 1e-5,
    });
    lin.save(path.join(tmp.dir, "h.native"));
    const y1 = new Float32Array(10);
    const y2 = new Float32Array(10);
    lin.run(randomInput(64, 3), y1, 1);
    k.loadLinear(path.join(tmp.dir, "h.native")).run(randomInput(64, 3), y2, 1);
    expect(Array.from(y2)).toEqual(Array.from(y1));
    expect(() =>
      att.run(
        new Float32Array(3),
        Int32Array.of(0),
        table.cos,
        table.sin,
        new Float32Array(256),
        new Float32Array(256),
        4,
        0,
        new Float32Array(64),
        new Float32Array(64),
      ),
    ).toThrow(/x must have 64 elements/);
    expect(() =>
      att.run(
        randomInput(64, 1),
        Int32Array.of(9),
        table.cos,
        table.sin,
        new Float32Array(256),
        new Float32Array(256),
        4,
        0,
        new Float32Array(64),
        new Float32Array(64),
      ),
    ).toThrow(/outside the rotary table/);
    expect(() =>
      att.run(
        randomInput(64, 1),
        Int32Array.of(0),
        table.cos,
        table.sin,
        new Float32Array(256),
        new Float32Array(256),
        4,
        4,
        new Float32Array(64),
        new Float32Array(64),
      ),
    ).toThrow(/no room/);
  });
});

type Shape = { d: number; heads: number; kvHeads: number; headDim: number };

function attentionWeights(c: Shape, seed: number): NativeAttentionWeights {
  const qd = c.heads * c.headDim;
  const n = qd + 2 * c.kvHeads * c.headDim;
  return {
    ...c,
    eps: 1e-5,
    interleaved: true,
    attnNorm: gaussian(c.d, 0.1, seed).map((v) => 1 + v),
    ffnNorm: gaussian(c.d, 0.1, seed + 1).map((v) => 1 + v),
    wqkv: gaussian(n * c.d, 0.1, seed + 2),
    bqkv: gaussian(n, 0.05, seed + 3),
    wo: gaussian(c.d * qd, 0.1, seed + 4),
  };
}

/** Runs the rows of x through `att` in calls of `sizes` rows each, filling the cache as it goes. */
function runInSteps(
  att: NativeAttention,
  d: number,
  x: Float32Array,
  table: { cos: Float32Array; sin: Float32Array },
  kv: { key: KvBuffer; value: KvBuffer; capacity: number },
  sizes: number[],
) {
  const residual = new Float32Array(x.length);
  const ffnIn = new Float32Array(x.length);
  let at = 0;
  for (const n of sizes) {
    const rows = (a: Float32Array) => a.subarray(at * d, (at + n) * d);
    const positions = Int32Array.from({ length: n }, (_, i) => at + i);
    att.run(
      rows(x),
      positions,
      table.cos,
      table.sin,
      kv.key,
      kv.value,
      kv.capacity,
      at,
      rows(residual),
      rows(ffnIn),
    );
    at += n;
  }
  return { residual, ffnIn };
}

function rotaryTable(positions: number, hd: number) {
  const half = hd / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++)
    for (let i = 0; i < half; i++) {
      const a = p / 10000 ** ((2 * i) / hd);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  return { cos, sin };
}

/** residual = x + W_o · attention(rotary(W_qkv · RMSNorm(x) + b)), causal over all rows, in float64. */
function referenceAttention(
  c: Shape,
  w: NativeAttentionWeights,
  x: Float32Array,
  rows: number,
  table: { cos: Float32Array; sin: Float32Array },
): Float32Array {
  const { d, heads, kvHeads, headDim: hd } = c;
  const qd = heads * hd;
  const n = qd + 2 * kvHeads * hd;
  const half = hd / 2;
  const qkv: number[][] = [];
  for (let s = 0; s < rows; s++) {
    const xs = x.subarray(s * d, (s + 1) * d);
    const inv = 1 / Math.sqrt(xs.reduce((a, v) => a + v * v, 0) / d + w.eps);
    const h = Array.from(xs, (v, i) => v * inv * w.attnNorm[i]);
    const v = Array.from({ length: n }, (_, o) =>
      h.reduce((a, hv, j) => a + hv * w.wqkv[o * d + j], w.bqkv![o]),
    );
    for (let head = 0; head < heads + kvHeads; head++)
      for (let i = 0; i < half; i++) {
        const base = head * hd;
        const [a, b] = [base + 2 * i, base + 2 * i + 1];
        const [c0, s0] = [table.cos[s * half + i], table.sin[s * half + i]];
        [v[a], v[b]] = [v[a] * c0 - v[b] * s0, v[a] * s0 + v[b] * c0];
      }
    qkv.push(v);
  }
  const out = new Float32Array(rows * d);
  for (let s = 0; s < rows; s++) {
    const attn = new Array<number>(qd).fill(0);
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / (heads / kvHeads));
      const sc = Array.from({ length: s + 1 }, (_, t) => {
        let a = 0;
        for (let i = 0; i < hd; i++) a += qkv[s][h * hd + i] * qkv[t][qd + kvh * hd + i];
        return a / Math.sqrt(hd);
      });
      const mx = Math.max(...sc);
      const e = sc.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, v) => a + v, 0);
      for (let t = 0; t <= s; t++)
        for (let i = 0; i < hd; i++)
          attn[h * hd + i] += (e[t] / sum) * qkv[t][qd + kvHeads * hd + kvh * hd + i];
    }
    for (let o = 0; o < d; o++)
      out[s * d + o] = x[s * d + o] + attn.reduce((a, v, j) => a + v * w.wo[o * qd + j], 0);
  }
  return out;
}
