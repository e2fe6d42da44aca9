// The bytes of the package convertModel would write for a source at a quantization, from the
// source's header alone (shapes, which optional tensors it has), before anything is converted: so
// the user can choose the quantization knowing what each gives. Not an estimate: the layer and
// head graphs are built by the converter's own builders in measure mode (every weight placed by
// its byte length, none quantized), the embedding follows writeEmbedding's rule, and the native
// files are sized by the writer that would write them.
import type { ModelSource, TensorInfo, TensorName } from "../formats/model-source.js";
import { buildHeadGraph, buildLayerGraph, type GraphFiles, type LayerWeights } from "./layer-graph.js";
import type { LinearOptions, WeightQuant } from "./linear.js";
import { quantizedShape } from "./quantize.js";
import { defaultBlockSize, EMBEDDING_INT, rowsBits, type NativeWriter } from "./convert-model.js";
import { GRID_TYPES } from "../formats/block-grid.js";
import { headStorage, keepsFileRows, layerStorage } from "./source-grid.js";
import { dequantLayout } from "../formats/gguf-dequant.js";
import { keepsFile } from "./kept-file.js";

export interface PackageSizeOptions {
  blockSize?: number;
  /** Bytes of tokenizer.json and tokenizer_config.json as the import writes them. */
  tokenizerBytes: number;
  /** The native kernels' writer the import would use (absent: no native files). */
  native?: NativeWriter;
  /** With `native`, also onnxruntime's graphs and the FFN rows (ConvertOptions.allForms). */
  allForms?: boolean;
}

type SourceHeader = Pick<ModelSource, "config" | "tensors" | "format" | "locateTensorBlocks"> & {
  /** The file's size, where the package may keep it as it is (a GGUF: kept-file.ts). */
  fileBytes?: number;
};

/** What manifest.sizeBytes will say: the converted package (calibration's files come later, uncounted). */
export function packageBytes(source: SourceHeader, quant: WeightQuant, o: PackageSizeOptions): number {
  const cfg = source.config;
  const blockSize = o.blockSize ?? defaultBlockSize(cfg);
  const linear: LinearOptions = { quant, blockSize, accuracyLevel: 4, measure: true };
  // The kernel is integer-only: float packages stay dense (as importModel decides).
  const native = quant === "int4" || quant === "int8" ? o.native : undefined;
  const bits = quant === "int4" ? 4 : 8;
  // The file itself, its final norm (and Gemma's FFN output norms) beside it (writeKeptFile).
  if (native && !o.allForms && source.fileBytes !== undefined && keepsFile(source, bits, blockSize))
    return source.fileBytes + o.tokenizerBytes + cfg.hiddenSize * 4 * (cfg.postNorms ? cfg.numLayers + 1 : 1);
  // One copy (convertModel): with the native form, onnxruntime's graphs and the rows only when asked.
  const graphs = !native || o.allForms === true;
  let total = o.tokenizerBytes + rowsFileBytes(source, quant, source.tensors.get("embed"));
  for (let l = 0; l < cfg.numLayers; l++) {
    const w = measuredLayer(source, l);
    if (graphs) total += graphBytes(buildLayerGraph(cfg, l, w, { ...linear, part: "full" }));
    if (native) {
      const parts = {
        bias: !!(w.bq && w.bk && w.bv),
        qkNorm: !!(w.qNorm && w.kNorm),
        postNorm: !!w.postAttnNorm,
      };
      total += native.layerBytes(
        cfg,
        parts,
        bits,
        blockSize,
        layerStorage(source.tensors, l, bits, blockSize),
        graphs,
      );
    }
  }
  if (graphs)
    total += graphBytes(buildHeadGraph(cfg, new Float32Array(cfg.hiddenSize), new Float32Array(0), linear));
  // Without the head graph: the final norm (the LM head's rows are the embedding's or the native head's).
  else total += cfg.hiddenSize * 4;
  if (native)
    total += native.headBytes(
      cfg,
      bits,
      blockSize,
      headStorage(source.tensors, cfg.tiedEmbeddings, bits, blockSize),
    );
  if (native && cfg.postNorms) total += cfg.numLayers * cfg.hiddenSize * 4;
  return total;
}

/** Package bytes for each of the three choices the app offers. */
export type QuantSizes = Record<"int4" | "int8" | "f16", number>;

export function quantSizes(source: SourceHeader, o: PackageSizeOptions): QuantSizes {
  return {
    int4: packageBytes(source, "int4", o),
    int8: packageBytes(source, "int8", o),
    f16: packageBytes(source, "f16", o),
  };
}

function graphBytes(g: GraphFiles): number {
  return g.model.byteLength + g.weights.length;
}

/** A rows file as convertModel's writeRows lays it out (the embedding table, the LM head's rows). */
function rowsFileBytes(source: SourceHeader, quant: WeightQuant, t: TensorInfo | undefined): number {
  const cfg = source.config;
  const values = cfg.vocabSize * cfg.hiddenSize;
  const layout = t && keepsFileRows(source.tensors, t.name, quant) ? dequantLayout(t.sourceType) : undefined;
  if (layout) return (values / layout.blockSize) * layout.typeSize;
  if (quant === "f32") return values * 4;
  if (quant === "f16") return values * 2;
  const bits = rowsBits(quant, t && GRID_TYPES[t.sourceType]?.bits);
  const s = quantizedShape(cfg.vocabSize, cfg.hiddenSize, bits, EMBEDDING_INT.blockSize);
  return s.dataBytes + s.scalesBytes + s.zeroPointBytes;
}

/**
 * A layer's weights as the measuring builders need them: vectors (norms, biases) at their length,
 * present exactly when the source has them; matrices empty, as measure mode never reads them.
 */
function measuredLayer(source: SourceHeader, l: number): LayerWeights {
  const cfg = source.config;
  const has = (n: string) => source.tensors.has(`layers.${l}.${n}` as TensorName);
  const vec = (n: string, len: number) => (has(n) ? new Float32Array(len) : undefined);
  const d = cfg.hiddenSize;
  const kvd = cfg.numKvHeads * cfg.headDim;
  const none = new Float32Array(0);
  return {
    attnNorm: new Float32Array(d),
    ffnNorm: new Float32Array(d),
    wq: none,
    wk: none,
    wv: none,
    wo: none,
    wGate: none,
    wUp: none,
    wDown: none,
    bq: vec("bq", cfg.numHeads * cfg.headDim),
    bk: vec("bk", kvd),
    bv: vec("bv", kvd),
    qNorm: vec("q_norm", cfg.headDim),
    kNorm: vec("k_norm", cfg.headDim),
    postAttnNorm: vec("post_attn_norm", d),
    postFfnNorm: vec("post_ffn_norm", d),
  };
}
