// The native kernels' arguments for a layer's FFN and attention half and for the LM head, from a
// layer's weights and how each matrix is stored (source-grid.ts). One builder for both places
// that lay a model out: an import that writes the laid-out files, and the load of a package that
// keeps the GGUF itself, which lays every matrix out from the file's blocks where the file holds
// them (LocatedBlocks) each time it loads.
import { attentionWindow, type ModelConfig } from "../formats/model-source.js";
import type { DequantizedTensor } from "../formats/tensor-read.js";
import type { AvailableNativeKernels } from "./index.js";
import { attentionFileBytes, ffnDenseFileBytes, ffnRowsFileBytes, linearFileBytes } from "./saved-bytes.js";
import type { SparseBlockSize } from "./index.js";
import type { NativeLayerParts, NativeLayerWeights } from "../convert/convert-model.js";
import { stackRows } from "../convert/linear.js";
import {
  nativeForm,
  type FileBlocks,
  type LayerStorage,
  type MatrixStorage,
} from "../convert/source-grid.js";

type Kernels = AvailableNativeKernels;
type BlockSize = 32 | 64 | 128 | 256;

/** createFfn's arguments for layer weights `w` (every FFN pass reads the packed `dense` form; `rows` for CATS). */
export function ffnArguments(
  cfg: ModelConfig,
  w: NativeLayerWeights,
  bits: 4 | 8,
  blockSize: number,
  storage: Required<LayerStorage>,
  threads: number,
): Parameters<Kernels["createFfn"]>[0] {
  const g = w.grids ?? {};
  const b = w.blocks ?? {};
  return {
    d: cfg.hiddenSize,
    ffn: cfg.intermediateSize,
    bits,
    blockSize: blockSize as BlockSize,
    gate: w.wGate,
    up: w.wUp,
    down: w.wDown,
    gateGrid: nativeForm(storage.gate, [g.wGate], [b.wGate]),
    upGrid: nativeForm(storage.up, [g.wUp], [b.wUp]),
    downGrid: nativeForm(storage.down, [g.wDown], [b.wDown]),
    ...(cfg.activation === "gelu_tanh" ? { activation: "gelu_tanh" as const } : {}),
    threads,
  };
}

/** createAttention's arguments for layer `layer`'s weights. */
export function attentionArguments(
  cfg: ModelConfig,
  layer: number,
  w: NativeLayerWeights,
  bits: 4 | 8,
  blockSize: number,
  storage: Required<LayerStorage>,
  threads: number,
): Parameters<Kernels["createAttention"]>[0] {
  const g = w.grids ?? {};
  const b = w.blocks ?? {};
  return {
    d: cfg.hiddenSize,
    heads: cfg.numHeads,
    kvHeads: cfg.numKvHeads,
    headDim: cfg.headDim,
    bits,
    blockSize: blockSize as BlockSize,
    eps: cfg.rmsNormEps,
    interleaved: cfg.ropeInterleaved,
    attnNorm: w.attnNorm,
    wqkv: w.wq && w.wk && w.wv ? stackRows([w.wq, w.wk, w.wv]) : undefined,
    bqkv: w.bq && w.bk && w.bv ? stackRows([w.bq, w.bk, w.bv]) : undefined,
    wo: w.wo,
    wqkvGrid: nativeForm(storage.qkv, [g.wq, g.wk, g.wv], [b.wq, b.wk, b.wv]),
    woGrid: nativeForm(storage.o, [g.wo], [b.wo]),
    ffnNorm: w.ffnNorm,
    ...(w.qNorm && w.kNorm ? { qNorm: w.qNorm, kNorm: w.kNorm } : {}),
    window: attentionWindow(cfg, layer),
    ...(cfg.attentionScale ? { scale: cfg.attentionScale } : {}),
    ...(w.postAttnNorm ? { postNorm: w.postAttnNorm } : {}),
    threads,
  };
}

/** createLinear's arguments for the LM head with its final norm: `lmHead` as values with the file's grid, or the file's blocks. */
export function headArguments(
  cfg: ModelConfig,
  finalNorm: Float32Array,
  lmHead: DequantizedTensor | FileBlocks,
  bits: 4 | 8,
  blockSize: number,
  storage: MatrixStorage,
  threads: number,
): Parameters<Kernels["createLinear"]>[0] {
  return {
    outputs: cfg.vocabSize,
    inputs: cfg.hiddenSize,
    bits,
    blockSize: blockSize as BlockSize,
    ...("values" in lmHead
      ? { weights: lmHead.values, weightsGrid: nativeForm(storage, [lmHead.grid]) }
      : { weightsGrid: nativeForm(storage, [], [lmHead]) }),
    norm: finalNorm,
    eps: cfg.rmsNormEps,
    threads,
  };
}

/**
 * Bytes of a layer's laid-out form (its saved files: packed FFN and attention half, with the
 * per-neuron rows when `withRows`), from shapes alone.
 */
export function layerFormBytes(
  cfg: ModelConfig,
  parts: NativeLayerParts,
  bits: 4 | 8,
  blockSize: number,
  storage: LayerStorage,
  withRows: boolean,
): number {
  const block = blockSize as SparseBlockSize;
  const { hiddenSize: d, intermediateSize: ffn } = cfg;
  const shape = { d, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, headDim: cfg.headDim, ...parts };
  return (
    (withRows ? ffnRowsFileBytes(d, ffn, bits, block) : 0) +
    ffnDenseFileBytes(d, ffn, bits, block, storage) +
    attentionFileBytes(shape, bits, block, storage)
  );
}

/** Bytes of the laid-out LM head with its final norm. */
export function headFormBytes(
  cfg: ModelConfig,
  bits: 4 | 8,
  blockSize: number,
  storage: MatrixStorage,
): number {
  const block = blockSize as SparseBlockSize;
  return linearFileBytes(cfg.vocabSize, cfg.hiddenSize, bits, block, { norm: true, bias: false }, storage);
}
