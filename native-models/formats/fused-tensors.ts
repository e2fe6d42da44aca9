import { ModelFormatError } from "./errors.js";
import type { LayerTensor, ModelConfig, TensorInfo, TensorName } from "./model-source.js";
import { GRID_BLOCK, gridRows } from "./block-grid.js";
import type { DequantizedTensor } from "./tensor-read.js";

// Phi-3 stores q, k and v as one matrix (GGUF attn_qkv, HF qkv_proj) and the FFN's gate and up as
// one (GGUF ffn_up, HF gate_up_proj). llama.cpp views [q; k; v] at rows 0, n_q, n_q + n_kv and its
// SWIGLU takes silu of the first half times the second; transformers splits and chunks the same way.
// The readers serve the parts under the canonical names, so conversion, the native kernels, early
// exit and sparsity see an ordinary Llama-shaped layer. Partial rotary is undone here too.

/** Rows of a fused source tensor that make up one canonical tensor. */
export interface RowRange {
  start: number;
  rows: number;
}

/** Where a canonical tensor comes from: a whole source tensor, or a row range of a fused one. */
export interface Located<S> {
  source: S;
  range?: RowRange;
}

export type FusedKind = "qkv" | "gate_up";

function parts(c: ModelConfig, kind: FusedKind): [LayerTensor, number][] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  return kind === "qkv"
    ? [
        ["wq", q],
        ["wk", kv],
        ["wv", kv],
      ]
    : [
        ["w_gate", c.intermediateSize],
        ["w_up", c.intermediateSize],
      ];
}

/**
 * Splits a fused tensor of layer `layer` (shape [rows, cols] as stored) into canonical entries.
 * A fused tensor whose rows do not add up is refused here, with its own name in the message.
 */
export function splitFused<S>(
  c: ModelConfig,
  layer: number,
  kind: FusedKind,
  fused: { name: string; shape: number[]; sourceType: string; source: S },
  file: string,
): [TensorName, TensorInfo, Located<S>][] {
  const p = parts(c, kind);
  const rows = p.reduce((s, [, r]) => s + r, 0);
  const [r0, cols] = fused.shape;
  if (fused.shape.length !== 2 || r0 !== rows || cols !== c.hiddenSize) {
    throw new ModelFormatError(
      "bad_tensor",
      `tensor ${fused.name} has shape [${fused.shape.join(", ")}] but the model config implies [${rows}, ${c.hiddenSize}]`,
      file,
    );
  }
  let start = 0;
  return p.map(([t, r]) => {
    const name: TensorName = `layers.${layer}.${t}`;
    const out: [TensorName, TensorInfo, Located<S>] = [
      name,
      { name, shape: [r, cols], sourceType: fused.sourceType },
      { source: fused.source, range: { start, rows: r } },
    ];
    start += r;
    return out;
  });
}

/** The fused matrix that holds a canonical tensor of a Phi-3 layer, as [layer, kind] (for messages). */
export function fusedOf(n: TensorName): [number, FusedKind] | undefined {
  const m = /^layers\.(\d+)\.(wq|wk|wv|w_gate|w_up)$/.exec(n);
  return m ? [Number(m[1]), m[2].startsWith("w_") ? "gate_up" : "qkv"] : undefined;
}

/**
 * Row order that makes partial half-split rotary look like whole-head rotary: in each head the
 * rotating halves [0, r/2) and [r/2, r) move to the starts of the head's two halves and the
 * non-rotating dimensions [r, hd) fill the rest, so pair i still joins rows i and i + hd/2 and the
 * pairs past r/2 get frequency zero. q and k get the same order, which leaves q·k unchanged.
 */
export function partialRotaryOrder(headDim: number, rotaryDim: number): number[] {
  const half = headDim / 2;
  const rh = rotaryDim / 2;
  const pass = half - rh;
  const order: number[] = [];
  for (let j = 0; j < headDim; j++) {
    const second = j >= half;
    const i = second ? j - half : j;
    order.push(i < rh ? i + (second ? rh : 0) : rotaryDim + (i - rh) + (second ? pass : 0));
  }
  return order;
}

function reorderHeads<T extends Float32Array | Uint8Array>(
  w: T,
  heads: number,
  order: number[],
  cols: number,
): T {
  const hd = order.length;
  const out = new (w.constructor as new (n: number) => T)(w.length);
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < hd; j++) {
      const src = (h * hd + order[j]) * cols;
      out.set(w.subarray(src, src + cols), (h * hd + j) * cols);
    }
  return out;
}

/** The order q/k rows are read in (partial half-split rotary), or undefined: the file's. */
function headRowOrder(c: ModelConfig): number[] | undefined {
  return c.rotaryDim !== undefined && c.rotaryDim < c.headDim && !c.ropeInterleaved
    ? partialRotaryOrder(c.headDim, c.rotaryDim)
    : undefined;
}

/**
 * Tensor `name`'s rows as the file's bytes (`rowBytes` each) in the order the reader gives its
 * values (partsReader): q/k rows reordered for partial rotary, whole rows being whole blocks.
 */
/** Whether rowsInReadOrder reorders this tensor's rows (q/k of a partial half-split rotary). */
export function reordersRows(c: ModelConfig, name: TensorName): boolean {
  return !!headRowOrder(c) && /\.(wq|wk)$/.test(name);
}

export function rowsInReadOrder(
  c: ModelConfig,
  name: TensorName,
  bytes: Uint8Array,
  rowBytes: number,
): Uint8Array {
  const order = headRowOrder(c);
  const m = order && /\.(wq|wk)$/.exec(name);
  if (!m) return bytes;
  return reorderHeads(bytes, m[1] === "wq" ? c.numHeads : c.numKvHeads, order!, rowBytes);
}

/**
 * The reader's readTensor on top of `readWhole` (one source tensor, dequantized, with its block
 * grid where it has one): slices fused row ranges (keeping the fused tensor until its last part
 * has been served, since they are read one after another) and reorders q/k rows for partial
 * half-split rotary, the grid's rows with the values'.
 */
export function partsReader<S>(
  c: ModelConfig,
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  readWhole: (source: S) => Promise<DequantizedTensor>,
): (name: TensorName, at: Located<S>) => Promise<DequantizedTensor> {
  let held: { source: S; data: DequantizedTensor } | undefined;
  const order = headRowOrder(c);
  return async (name, at) => {
    let data: DequantizedTensor;
    if (!at.range) data = await readWhole(at.source);
    else {
      const cols = tensors.get(name)!.shape[1];
      if (held?.source !== at.source) held = { source: at.source, data: await readWhole(at.source) };
      const { start, rows } = at.range;
      const whole = held.data;
      const end = (start + rows) * cols;
      data = { values: whole.values.slice(start * cols, end) };
      if (whole.grid) data.grid = gridRows(whole.grid, cols, start, rows);
      if (end === whole.values.length) held = undefined;
    }
    const m = order && /\.(wq|wk|bq|bk)$/.exec(name);
    if (!m) return data;
    const heads = m[1].endsWith("q") ? c.numHeads : c.numKvHeads;
    const cols = data.values.length / (heads * c.headDim);
    const rowsOf = (a: Float32Array, perRow: number) => reorderHeads(a, heads, order!, perRow);
    const out: DequantizedTensor = { values: rowsOf(data.values, cols) };
    if (data.grid) out.grid = { ...data.grid, scales: rowsOf(data.grid.scales, cols / GRID_BLOCK) };
    return out;
  };
}
