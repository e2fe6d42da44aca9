// The size rule of saved-bytes.ts against what the kernels' save() really writes, over shapes that
// exercise the padding (inputs not a multiple of 64 or of the block, outputs not a multiple of 16)
// and every optional part. Skipped without the addon unless EXITLANE_REQUIRE_NATIVE=1.
import { statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { gaussian } from "../test-support/kernel-synthetic.js";
import { loadNativeKernels } from "./index.js";
import { attentionFileBytes, ffnDenseFileBytes, ffnRowsFileBytes, linearFileBytes } from "./saved-bytes.js";

const kernel = loadNativeKernels();
const required = process.env.EXITLANE_REQUIRE_NATIVE === "1";
if (!kernel.available && !required) console.warn(`[skip] saved-bytes: ${kernel.detail}`);

describe.runIf(kernel.available || required)("native file sizes from shapes", () => {
  // Vitest runs a skipped suite's body too (to list its tests): only a required kernel may throw.
  if (!kernel.available) {
    if (required) throw new Error(`EXITLANE_REQUIRE_NATIVE=1 but ${kernel.detail}`);
    return;
  }
  const k = kernel;
  const tmp = makeTempDir("exitlane-saved-bytes-");
  afterAll(() => tmp.cleanup());
  const saved = (h: { save(f: string): void; close(): void }, name: string) => {
    const file = `${tmp.dir}/${name}`;
    h.save(file);
    h.close();
    return statSync(file).size;
  };

  it.each([
    [8, 32, 64, 172],
    [4, 32, 192, 512],
    [4, 64, 100, 37],
    [8, 128, 130, 300],
    [4, 256, 300, 17],
  ] as const)("FFN int%i block %i, d %i, ffn %i: both forms", (bits, blockSize, d, ffn) => {
    const w = { d, ffn, bits, blockSize, gate: gaussian(d * ffn, 0.02, 1), up: gaussian(d * ffn, 0.02, 2) };
    const ffnW = { ...w, down: gaussian(d * ffn, 0.02, 3) };
    expect(saved(k.createFfn(ffnW), "rows")).toBe(ffnRowsFileBytes(d, ffn, bits, blockSize));
    expect(saved(k.createFfn({ ...ffnW, form: "dense" }), "dense")).toBe(
      ffnDenseFileBytes(d, ffn, bits, blockSize),
    );
  });

  it.each([
    [4, 32, false, false, false],
    [8, 64, true, false, false],
    [4, 128, true, true, true],
  ] as const)(
    "attention int%i block %i (bias %s, q/k norm %s, post-norm %s)",
    (bits, blockSize, bias, qkNorm, postNorm) => {
      const shape = { d: 96, heads: 6, kvHeads: 2, headDim: 16, bias, qkNorm, postNorm };
      const qkv = (shape.heads + 2 * shape.kvHeads) * shape.headDim;
      const attention = k.createAttention({
        d: shape.d,
        heads: shape.heads,
        kvHeads: shape.kvHeads,
        headDim: shape.headDim,
        bits,
        blockSize,
        eps: 1e-5,
        interleaved: true,
        attnNorm: gaussian(shape.d, 1, 4),
        ffnNorm: gaussian(shape.d, 1, 5),
        wqkv: gaussian(qkv * shape.d, 0.02, 6),
        bqkv: bias ? gaussian(qkv, 0.1, 7) : undefined,
        wo: gaussian(shape.d * shape.heads * shape.headDim, 0.02, 8),
        ...(qkNorm ? { qNorm: gaussian(16, 1, 9), kNorm: gaussian(16, 1, 10) } : {}),
        ...(postNorm ? { postNorm: gaussian(shape.d, 1, 11) } : {}),
      });
      expect(saved(attention, "attn")).toBe(attentionFileBytes(shape, bits, blockSize));
    },
  );

  it.each([
    [8, 32, 64, 512, true, false],
    [4, 32, 192, 4096, true, false],
    [4, 128, 130, 37, false, true],
  ] as const)(
    "linear int%i block %i, %i -> %i (norm %s, bias %s)",
    (bits, blockSize, inputs, outputs, norm, bias) => {
      const lin = k.createLinear({
        outputs,
        inputs,
        bits,
        blockSize,
        weights: gaussian(outputs * inputs, 0.02, 12),
        ...(norm ? { norm: gaussian(inputs, 1, 13), eps: 1e-5 } : {}),
        ...(bias ? { bias: gaussian(outputs, 0.1, 14) } : {}),
      });
      expect(saved(lin, "linear")).toBe(linearFileBytes(outputs, inputs, bits, blockSize, { norm, bias }));
    },
  );
});
