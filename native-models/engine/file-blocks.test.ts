// The file's own values, as the kernels see them: a GGUF of each block type is imported with the
// default quantization (a quantized one is kept as it is and laid out at load), and every matrix
// the native kernels (and the embedding table) hold is
// compared with the file's tensor dequantized by the ggml block formula (formats/gguf-dequant.ts,
// itself checked against hand-built blocks). Where the package says it kept a matrix, the values
// must be identical; the package's count of kept matrices must be what the kernels hold.
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { tinyGguf, tinyModel } from "../test-support/tiny-models.js";
import { openModelSource } from "../formats/open-model.js";
import type { ModelSource, TensorName } from "../formats/model-source.js";
import { importModel } from "./import-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import type { Manifest } from "../package/manifest.js";
import { MatrixRows } from "../runtime/stored-matrix.js";
import { keptFileLayout } from "../runtime/kept-file-layout.js";

const kernel = loadNativeKernels();
const tmp = makeTempDir("exitlane-file-blocks-");
afterAll(() => tmp.cleanup());

/**
 * Which package matrices hold which source tensors (stacked ones in order), as the kernels hold
 * them once the package loads: laid out from its kept GGUF, or read from its laid-out files.
 */
async function heldMatrices(m: Manifest, dir: string) {
  if (!kernel.available) throw new Error("native kernels needed");
  const k = kernel;
  const kept = m.native?.kept ? await keptFileLayout(dir, m, 1) : undefined;
  const out: { sources: TensorName[]; values: () => Float32Array }[] = [];
  for (let l = 0; l < m.config.numLayers; l++) {
    const p = (n: string) => `layers.${l}.${n}` as TensorName;
    const attention = kept
      ? k.createAttention(kept.attention[l])
      : k.loadAttention(path.join(dir, m.native!.attention![l]));
    const dense = kept ? k.createFfn(kept.ffn[l]) : k.loadFfn(path.join(dir, m.native!.dense![l]));
    out.push(
      { sources: [p("wq"), p("wk"), p("wv")], values: () => attention.weights("qkv") },
      { sources: [p("wo")], values: () => attention.weights("o") },
      { sources: [p("w_gate")], values: () => dense.weights("gate") },
      { sources: [p("w_up")], values: () => dense.weights("up") },
      { sources: [p("w_down")], values: () => dense.weights("down") },
    );
  }
  const head = kept ? k.createLinear(kept.head) : k.loadLinear(path.join(dir, m.native!.head!));
  out.push({ sources: [m.config.tiedEmbeddings ? "embed" : "lm_head"], values: () => head.weights() });
  out.push({ sources: ["embed"], values: () => embeddingTable(m, dir) });
  return out;
}

function embeddingTable(m: Manifest, dir: string): Float32Array {
  const rows = new MatrixRows(dir, m.embedding);
  const { hiddenSize: d, vocabSize: v } = m.config;
  const out = new Float32Array(v * d);
  for (let r = 0; r < v; r++) rows.row(r, out, r * d);
  rows.close();
  return out;
}

async function fileValues(source: ModelSource, names: TensorName[]): Promise<Float32Array> {
  const parts = await Promise.all(names.map((n) => source.readTensor(n)));
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// A 256-wide model: every matrix row is whole K-quant super-blocks, so each type lands on them all.
const TYPES = ["Q8_0", "Q5_0", "Q4_0", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "F32"];
const KEPT_BY_DEFAULT = new Set(["Q8_0", "Q5_0", "Q4_0", "Q4_1", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]);

describe.runIf(kernel.available)("a GGUF's own values in the package (default import)", () => {
  for (const type of TYPES) {
    it(`${type}: the kept matrices are the file's values exactly, and the package says which`, async () => {
      const m = tinyModel({
        hidden: 256,
        ff: 256,
        vocab: 40,
        layers: 1,
        heads: 4,
        kvHeads: 2,
        tied: false,
        seed: 7,
      });
      const file = tmp.write(`${type}.gguf`, tinyGguf(m, { type }).bytes);
      const modelsDir = path.join(tmp.dir, `models-${type}`);
      const { manifest, dir } = await importModel(file, { modelsDir, threads: 1 });
      const source = await openModelSource(file);
      try {
        const held = await heldMatrices(manifest, dir);
        let identical = 0;
        for (const h of held) {
          const want = await fileValues(source, h.sources);
          const got = h.values();
          expect(got.length).toBe(want.length);
          if (got.every((v, i) => v === want[i])) identical++;
        }
        const blocks = manifest.sourceBlocks!;
        expect(blocks.types).toContain(type);
        expect(blocks.of).toBe([...source.tensors.values()].filter((t) => t.shape.length === 2).length);
        if (KEPT_BY_DEFAULT.has(type)) {
          // The package is the file itself, laid out at load.
          expect(manifest.native?.kept).toBe("model.gguf");
          expect(blocks.kept).toBe(blocks.of);
          expect(identical).toBe(held.length);
        } else {
          expect(manifest.native?.kept).toBeUndefined();
          // Float files are rounded to int8 by design: none is claimed to be kept.
          expect(blocks.kept).toBe(0);
          expect(identical).toBe(0);
        }
      } finally {
        await source.close();
      }
    });
  }
});
