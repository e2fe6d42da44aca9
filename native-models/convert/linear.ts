// A linear layer y = W x (+ b) in the chosen weight format, emitted into a graph.
import type { GraphBuilder } from "./onnx-builder.js";
import { quantizedShape, quantizeMatrix } from "./quantize.js";
import { float32ToFloat16 } from "./float16.js";

export type WeightQuant = "int4" | "int8" | "f16" | "f32";

export interface LinearOptions {
  quant: WeightQuant;
  /** Inputs per quantization block (int4/int8). Bigger blocks decode faster and lose a little accuracy. */
  blockSize: number;
  /** MatMulNBits accuracy_level: 4 = int8 activations (fastest on CPUs with VNNI/AMX), 0 = fp32 compute. */
  accuracyLevel: number;
  /**
   * Build the graph only to measure it: weight matrices are never read (they may be empty) and
   * take their place in the external file by byte length (package sizes before converting).
   */
  measure?: boolean;
}

/** Emits y = input · Wᵀ for W [n, k]; returns the output name. `grid`: the file's block scales to keep (source-grid.ts). */
export function emitLinear(
  g: GraphBuilder,
  name: string,
  input: string,
  w: Float32Array,
  n: number,
  k: number,
  opts: LinearOptions,
  bias?: Float32Array,
  grid?: Float32Array,
): string {
  let y: string;
  if (opts.quant === "int4" || opts.quant === "int8") {
    const bits = opts.quant === "int4" ? 4 : 8;
    const s = quantizedShape(n, k, bits, opts.blockSize);
    const q = opts.measure ? undefined : quantizeMatrix(w, n, k, bits, opts.blockSize, grid);
    const inputs = [
      input,
      g.weight(`${name}.q`, "uint8", [n, s.kBlocks, s.blobSize], q?.data ?? s.dataBytes),
      g.weight(`${name}.scales`, "float32", [n * s.kBlocks], q?.scales ?? s.scalesBytes),
    ];
    if (bits === 4)
      inputs.push(g.weight(`${name}.zp`, "uint8", [s.zeroPointBytes], q?.zeroPoints ?? s.zeroPointBytes));
    y = g.ms("MatMulNBits", inputs, {
      K: k,
      N: n,
      bits,
      block_size: opts.blockSize,
      accuracy_level: opts.accuracyLevel,
    })[0];
  } else {
    // MatMul wants [k, n].
    const wt = opts.measure ? undefined : transpose(w, n, k);
    if (opts.quant === "f16") {
      const half = g.weight(`${name}.w16`, "float16", [k, n], wt ? float32ToFloat16(wt) : k * n * 2);
      y = g.op("MatMul", [input, g.op("Cast", [half], { to: 1 })]);
    } else {
      y = g.op("MatMul", [input, g.weight(`${name}.w`, "float32", [k, n], wt ?? k * n * 4)]);
    }
  }
  if (bias) y = g.op("Add", [y, g.weight(`${name}.b`, "float32", [n], bias)]);
  return y;
}

export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[base + c];
  }
  return out;
}

/** Stacks matrices with the same input size row-wise, so one matmul computes all of them. */
export function stackRows(mats: Float32Array[]): Float32Array {
  const out = new Float32Array(mats.reduce((s, m) => s + m.length, 0));
  let off = 0;
  for (const m of mats) {
    out.set(m, off);
    off += m.length;
  }
  return out;
}
