// ModelSource -> model package folder: the native kernels' form of every layer and the head where
// they are available (each weight once), else one ONNX graph per decoder layer and the head graph;
// the embedding table, tokenizer files and manifest.json.
// Written into a temporary folder inside the models dir and renamed only when complete, so a
// failed, cancelled or killed import never leaves a half-written model behind.
import { mkdir, rename, rm, writeFile, open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted } from "../formats/cancel.js";
import type { ModelConfig, ModelSource, TensorName } from "../formats/model-source.js";
import {
  buildHeadGraph,
  buildLayerGraph,
  type GraphFiles,
  type LayerGrids,
  type LayerWeights,
} from "./layer-graph.js";
import type { DequantizedTensor } from "../formats/tensor-read.js";
import type { LinearOptions, WeightQuant } from "./linear.js";
import { quantizeMatrix } from "./quantize.js";
import { float32ToFloat16 } from "./float16.js";
import { MANIFEST_VERSION, type Manifest, type StoredMatrix } from "../package/manifest.js";
import { hashSource, type SourceHash } from "./source-hash.js";
import { KEPT_FILE, keptFile, readKeptFile, writeKeptFile, type FileReader } from "./kept-file.js";
import {
  headStorage,
  keptGrid,
  keepsFileRows,
  keptMatrices,
  layerStorage,
  type FileBlocks,
  type ReadBlocks,
  type LayerStorage,
  type MatrixStorage,
} from "./source-grid.js";
import { chatTemplateOf } from "../tokenizer/hf-json.js";
import {
  AlreadyImportedError,
  findBySource,
  OWNER_FILE,
  packageTempDir,
  readManifest,
  uniqueModelId,
} from "../package/models-dir.js";

export type ImportStage = "read" | "convert" | "quantize" | "write";

type LayerMatrix = keyof LayerGrids;
/** Layer matrices as the file's own blocks (source-grid.ts FileBlocks: read, or located in the file). */
export type LayerBlocks = Partial<Record<LayerMatrix, FileBlocks>>;
/** A layer for the native kernels: the matrices in `blocks` come without values. */
export type NativeLayerWeights = Omit<LayerWeights, LayerMatrix> &
  Partial<Pick<LayerWeights, LayerMatrix>> & { blocks?: LayerBlocks };

/**
 * Writes the native kernels' form of a model (their own row layout): each layer's FFN and
 * attention half, and the LM head with its final norm. Decoding and prefill then never leave native
 * code; onnxruntime's graphs are written only without it (or with allForms).
 */
export interface NativeWriter {
  /**
   * dense: packed matrices; attention: the attention half; ffn (when asked): per-neuron rows for
   * sparse passes, which a one-copy package makes from the dense form at load instead.
   */
  writeLayer(
    cfg: ModelConfig,
    layer: number,
    w: NativeLayerWeights,
    files: { ffn?: string; dense: string; attention: string },
    bits: 4 | 8,
    blockSize: number,
    storage: Required<LayerStorage>,
  ): void;
  /** `lmHead`: its values with the file's grid, or (a form `storage` keeps) the file's blocks. */
  writeHead(
    cfg: ModelConfig,
    finalNorm: Float32Array,
    lmHead: DequantizedTensor | FileBlocks,
    file: string,
    bits: 4 | 8,
    blockSize: number,
    storage: MatrixStorage,
  ): void;
  /**
   * Bytes writeLayer writes for a layer with these optional parts, from shapes alone;
   * `storage`: how each matrix is stored (source-grid.ts layerStorage); `withRows`: the
   * per-neuron rows file too.
   */
  layerBytes(
    cfg: ModelConfig,
    parts: NativeLayerParts,
    bits: 4 | 8,
    blockSize: number,
    storage: LayerStorage,
    withRows: boolean,
  ): number;
  /** Bytes writeHead writes. */
  headBytes(cfg: ModelConfig, bits: 4 | 8, blockSize: number, storage: MatrixStorage): number;
}

/** The optional weights of a layer that change its native files' size. */
export interface NativeLayerParts {
  bias: boolean;
  qkNorm: boolean;
  postNorm: boolean;
}

/** int8 in 32-blocks keeps embeddings within ~0.4% for any weight quantization. */
export const EMBEDDING_INT = { bits: 8, blockSize: 32 } as const;

export interface ConvertOptions {
  modelsDir: string;
  quant: WeightQuant;
  name?: string;
  /** int4/int8 block size along the input dimension. */
  blockSize?: number;
  signal?: AbortSignal;
  onProgress?: (stage: ImportStage, progress: number) => void;
  /** Writes tokenizer.json / tokenizer_config.json for the source into the package folder. */
  writeTokenizer: (source: ModelSource, dir: string) => Promise<void>;
  /** A source already in the library in this quantization: refuse (AlreadyImportedError) or import a second copy (default). */
  duplicates?: "refuse" | "allow";
  /** Runs on the complete package while it is still in its temporary folder (calibration). */
  beforeCommit?: (dir: string) => Promise<void>;
  /**
   * Write the native kernels' form of every layer and the head with their own layout writer.
   * The package then holds each weight once: no onnxruntime graphs, no per-neuron FFN rows (made
   * from the packed FFN at load where sparse passes need them). Absent: onnxruntime's graphs.
   */
  native?: NativeWriter;
  /**
   * The native kernels' reader of a file (hash, checks and copy on another thread), for an import
   * that keeps the file; without it the JavaScript thread reads it (source-hash.ts).
   */
  readFile?: FileReader;
  /**
   * With `native`, also write onnxruntime's graphs and the per-neuron rows (the form before one
   * copy: three copies of the weights), for comparing the two engines on one package.
   */
  allForms?: boolean;
}

/**
 * int4/int8 block size along the input dimension. Measured on TinyLlama shapes (2 threads): block
 * 128 decodes fastest (MatMulNBits ~26 GB/s vs ~15 GB/s at 32) and keeps peak RSS near 1.4x the
 * weights (block 32 needs 1.6x: onnxruntime keeps every block's scale mapped beside the prepacked
 * weights). Asymmetric blocks of 128 are the usual int4 group size (AWQ/GPTQ). Small models are
 * memory-light and lose more accuracy to coarse blocks, so they keep 32.
 */
export function defaultBlockSize(cfg: ModelConfig): number {
  return cfg.hiddenSize >= 1024 ? 128 : 32;
}

export async function convertModel(source: ModelSource, opts: ConvertOptions): Promise<Manifest> {
  const cfg = source.config;
  const blockSize = opts.blockSize ?? defaultBlockSize(cfg);
  const linear: LinearOptions = { quant: opts.quant, blockSize, accuracyLevel: 4 };
  const progress = opts.onProgress ?? (() => {});
  // Ends the conversion early when the hash finds the file already in the library (refused), and
  // the file's read when the import fails.
  const refused = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, refused.signal]) : refused.signal;
  let duplicate: AlreadyImportedError | undefined;
  const check = () => {
    if (duplicate) throw duplicate;
    throwIfAborted(signal);
  };

  await mkdir(opts.modelsDir, { recursive: true });
  const name = opts.name?.trim() || cfg.name;
  const id = await uniqueModelId(opts.modelsDir, name, opts.quant);
  const tmp = await packageTempDir(opts.modelsDir, id);
  let hashing: Promise<SourceHash> | undefined;
  try {
    progress("read", 0);
    const bits = opts.quant === "int4" ? 4 : 8;
    // A quantized GGUF whose every matrix keeps its blocks is kept as it is, and checked while hashed.
    const kept =
      opts.native && !opts.allForms
        ? keptFile(source, bits, blockSize, (f) => progress("write", f))
        : undefined;
    // The file is hashed while its layers convert (or copied into the package as it is hashed).
    const copy = kept ? path.join(tmp, KEPT_FILE) : undefined;
    const read =
      kept && opts.readFile
        ? readKeptFile(source, kept, copy!, opts.readFile, signal, (f) => progress("write", f))
        : hashSource(source.path, { signal, inspector: kept?.inspector, copyTo: copy });
    hashing = read.then(async (info) => {
      const same =
        opts.duplicates === "refuse" ? await findBySource(opts.modelsDir, info.xxh128, opts.quant) : null;
      if (same) {
        duplicate = new AlreadyImportedError(same.id, same.name);
        refused.abort();
      }
      return info;
    });
    hashing.catch(() => {}); // awaited below, after the layers
    await opts.writeTokenizer(source, tmp);
    progress("read", 1);

    const weights = kept
      ? await writeKeptFile(source, kept, tmp, bits, hashing)
      : await writeLaidOut(source, tmp, { ...opts, blockSize, linear, check, progress });
    const sourceInfo = await hashing;
    check();
    progress("write", 1);
    const manifest: Manifest = {
      formatVersion: MANIFEST_VERSION,
      id,
      name,
      createdAt: new Date().toISOString(),
      config: cfg,
      quant: opts.quant,
      blockSize,
      params: countParams(cfg),
      source: { path: source.path, format: source.format, ...sourceInfo },
      ...weights,
      tokenizer: {
        file: "tokenizer.json",
        configFile: "tokenizer_config.json",
        chatTemplate: await hasChatTemplate(path.join(tmp, "tokenizer_config.json")),
      },
      sizeBytes: 0,
      sourceBlocks: keptMatrices(source.tensors, opts.quant, blockSize),
    };
    manifest.sizeBytes = await folderBytes(tmp, manifest);
    await writeFile(path.join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2));
    check();
    if (opts.beforeCommit) {
      await opts.beforeCommit(tmp);
      check();
    }
    const final = await readManifest(tmp);
    await rename(tmp, path.join(opts.modelsDir, id));
    // The temporary folder's owner mark has done its job once the package is in the library.
    await rm(path.join(opts.modelsDir, id, OWNER_FILE), { force: true });
    return final;
  } catch (err) {
    // The file's read may still be writing into the folder: stop it first.
    refused.abort();
    await hashing?.catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw duplicate ?? err;
  }
}

/** convertModel's context for writeLaidOut. */
interface LaidOutOptions extends ConvertOptions {
  blockSize: number;
  linear: LinearOptions;
  /** Throws if the import was cancelled or refused. */
  check: () => void;
  progress: NonNullable<ConvertOptions["onProgress"]>;
}

/**
 * Writes the weights laid out at import: the native kernels' files (packed FFNs, attention halves,
 * head) and/or onnxruntime's graphs, and the rows files; returns the manifest's fields for them.
 */
async function writeLaidOut(
  source: ModelSource,
  tmp: string,
  opts: LaidOutOptions,
): Promise<Pick<Manifest, "graphs" | "embedding" | "lmHead" | "finalNorm" | "native">> {
  const cfg = source.config;
  const { blockSize, linear, check, progress } = opts;
  // One copy: with the native kernels' form, onnxruntime's graphs and the rows only when asked.
  const graphs = !opts.native || opts.allForms === true;
  const layers: string[] = [];
  const sparseFfn: string[] = [];
  const denseFfn: string[] = [];
  const nativeAttention: string[] = [];
  // The native FFN kernel returns W_down·h; Gemma's norm on it runs beside, from this file.
  const postFfnNorms = cfg.postNorms && opts.native ? new Float32Array(cfg.numLayers * cfg.hiddenSize) : null;
  const sparseBits = opts.quant === "int4" ? 4 : 8;
  const L = cfg.numLayers;
  const read = async (l: number) => {
    const storage = layerStorage(source.tensors, l, sparseBits, blockSize);
    // The native form lays out the file's blocks; onnxruntime's graphs need every value too.
    const w = graphs ? await readLayer(source, l) : await readLayer(source, l, storage);
    const nativeW = graphs && opts.native ? { ...w, blocks: await layerBlocks(source, l, storage) } : w;
    return { storage, w, nativeW };
  };
  // Layer l + 1 is read (file I/O on libuv's threads) while layer l is laid out and written.
  // A read the loop leaves behind (cancelled, or a write failed) fails once the source is closed:
  // that failure must not reach the process as an unhandled rejection, which ends the engine host.
  const readAhead = (l: number) => {
    const reading = read(l);
    reading.catch(() => {}); // awaited in the next turn
    return reading;
  };
  let next = L > 0 ? readAhead(0) : null;
  for (let l = 0; l < L; l++) {
    check();
    progress("convert", l / L);
    const { storage, w, nativeW } = await next!;
    next = l + 1 < L ? readAhead(l + 1) : null;
    check();
    progress("quantize", l / L);
    const layer = graphs ? buildLayerGraph(cfg, l, w as LayerWeights, { ...linear, part: "full" }) : null;
    check();
    progress("write", l / L);
    if (layer) layers.push(await writeGraph(tmp, `layer${l}`, layer));
    if (opts.native) {
      if (graphs) sparseFfn.push(`ffn${l}.sparse`);
      denseFfn.push(`ffn${l}.dense`);
      nativeAttention.push(`attn${l}.native`);
      const files = {
        ffn: graphs ? path.join(tmp, sparseFfn[l]) : undefined,
        dense: path.join(tmp, denseFfn[l]),
        attention: path.join(tmp, nativeAttention[l]),
      };
      opts.native.writeLayer(cfg, l, nativeW, files, sparseBits, blockSize, storage);
      if (postFfnNorms) postFfnNorms.set(w.postFfnNorm!, l * cfg.hiddenSize);
    }
  }

  check();
  progress("convert", 1);
  // Values only where something needs them: the head graph, a head or rows file not kept as
  // the file's blocks.
  const embed = once(() => readWithGrid(source, "embed"));
  const lmHead = cfg.tiedEmbeddings ? embed : once(() => readWithGrid(source, "lm_head"));
  // Read once when a tied head and the rows file both keep the file's blocks.
  const embedBlocks = once(() => readBlocks(source, "embed"));
  const finalNorm = await source.readTensor("final_norm");
  check();
  progress("quantize", 1);
  const head = graphs
    ? buildHeadGraph(cfg, finalNorm, (await lmHead()).values, linear, (await lmHead()).grid)
    : null;
  const headFile = head ? await writeGraph(tmp, "head", head) : "";
  const nativeHead = "head.native";
  if (opts.native) {
    const storage = headStorage(source.tensors, cfg.tiedEmbeddings, sparseBits, blockSize);
    const blocks =
      storage.form === "free"
        ? undefined
        : cfg.tiedEmbeddings
          ? await embedBlocks()
          : await readBlocks(source, "lm_head");
    const weights = blocks ?? (await lmHead());
    opts.native.writeHead(
      cfg,
      finalNorm,
      weights,
      path.join(tmp, nativeHead),
      sparseBits,
      blockSize,
      storage,
    );
  }
  const embedding = await writeRows(
    tmp,
    "embedding.bin",
    embed,
    embedBlocks,
    cfg,
    opts.quant,
    source,
    "embed",
  );
  // The reduced head of early-exit checks reads LM-head rows and the final norm: from the head
  // graph's weights, or (one copy) the embedding table when tied and the native head itself
  // when not (no rows file: lmHead absent).
  let lmHeadRows: StoredMatrix | undefined;
  let finalNormAt: Manifest["finalNorm"];
  if (head) {
    lmHeadRows = storedHeadMatrix(head, cfg, linear);
    finalNormAt = { file: "head.bin", ...head.weights.offsets.get("final_norm")! };
  } else {
    const norm = new Uint8Array(finalNorm.buffer, finalNorm.byteOffset, finalNorm.byteLength);
    await writeFile(path.join(tmp, FINAL_NORM_FILE), norm);
    finalNormAt = { file: FINAL_NORM_FILE, offset: 0, length: norm.byteLength };
    lmHeadRows = cfg.tiedEmbeddings ? embedding : undefined;
  }
  const postFfnNormFile = "post_ffn_norm.bin";
  if (postFfnNorms)
    await writeFile(
      path.join(tmp, postFfnNormFile),
      new Uint8Array(postFfnNorms.buffer, postFfnNorms.byteOffset, postFfnNorms.byteLength),
    );
  return {
    // Attention-only graphs served packages whose native form was only the FFN; the native
    // attention halves replace them.
    graphs: { layers, attention: [], head: headFile },
    embedding,
    ...(lmHeadRows ? { lmHead: lmHeadRows } : {}),
    finalNorm: finalNormAt,
    ...(opts.native
      ? {
          native: {
            bits: sparseBits,
            // Empty in a one-copy package: the rows are made from `dense` when needed.
            ffn: sparseFfn,
            dense: denseFfn,
            attention: nativeAttention,
            head: nativeHead,
            ...(postFfnNorms
              ? { postFfnNorms: { file: postFfnNormFile, offset: 0, length: postFfnNorms.byteLength } }
              : {}),
          },
        }
      : {}),
  };
}

/** `read` on first call only; later calls share its promise. */
function once<T>(read: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= read());
}

/** The tensor with the file's block grid where the source keeps one. */
function readWithGrid(source: ModelSource, name: TensorName): Promise<DequantizedTensor> {
  if (source.readTensorWithGrid) return source.readTensorWithGrid(name);
  return source.readTensor(name).then((values) => ({ values }));
}

/** The tensor's rows as the file holds them, where the source gives them (a whole GGUF tensor). */
async function readBlocks(source: ModelSource, name: TensorName): Promise<ReadBlocks | undefined> {
  const raw = await source.readTensorBlocks?.(name);
  const t = source.tensors.get(name);
  return raw && t ? { type: raw.type, rows: t.shape[0], bytes: raw.bytes } : undefined;
}

/** readBlocks, or with `locate` where the file holds them (ModelSource.locateTensorBlocks). */
async function fileBlocks(
  source: ModelSource,
  name: TensorName,
  locate = false,
): Promise<FileBlocks | undefined> {
  return locate ? source.locateTensorBlocks?.(name) : readBlocks(source, name);
}

/** Layer l's packed matrices by the native kernels' name for them, and their parts' tensors. */
const NATIVE_PARTS = {
  qkv: [
    ["wq", "wq"],
    ["wk", "wk"],
    ["wv", "wv"],
  ],
  o: [["wo", "wo"]],
  gate: [["w_gate", "wGate"]],
  up: [["w_up", "wUp"]],
  down: [["w_down", "wDown"]],
} as const;

/** Layer l's matrices that `keep` keeps as the file has them, as the file's blocks (all parts of one or none). */
async function layerBlocks(
  source: ModelSource,
  l: number,
  keep: Required<LayerStorage>,
  locate = false,
): Promise<LayerBlocks> {
  const blocks: LayerBlocks = {};
  for (const [matrix, parts] of Object.entries(NATIVE_PARTS) as [
    keyof typeof NATIVE_PARTS,
    typeof NATIVE_PARTS.qkv,
  ][]) {
    if (keep[matrix].form === "free") continue;
    const found = await Promise.all(
      parts.map(([n]) => fileBlocks(source, `layers.${l}.${n}` as TensorName, locate)),
    );
    if (found.every((f) => f)) parts.forEach(([, key], i) => (blocks[key] = found[i]));
  }
  return blocks;
}

/**
 * Layer l's weights. With `keep` (the native form's storage, and no onnxruntime graphs): a
 * matrix it keeps as the file has it comes as the file's blocks, all its parts or none, and its
 * values are not read (ModelSource.readTensorBlocks; sources without it give values); with
 * `locate` too, as where the file holds them (ModelSource.locateTensorBlocks).
 */
export async function readLayer(source: ModelSource, l: number): Promise<LayerWeights>;
export async function readLayer(
  source: ModelSource,
  l: number,
  keep: Required<LayerStorage>,
  locate?: boolean,
): Promise<NativeLayerWeights>;
export async function readLayer(
  source: ModelSource,
  l: number,
  keep?: Required<LayerStorage>,
  locate = false,
): Promise<NativeLayerWeights> {
  const t = (n: string) => source.readTensor(`layers.${l}.${n}` as TensorName);
  const has = (n: string) => source.tensors.has(`layers.${l}.${n}` as TensorName);
  const grids: LayerGrids = {};
  const blocks = keep ? await layerBlocks(source, l, keep, locate) : {};
  const values: Partial<Record<LayerMatrix, Float32Array>> = {};
  for (const parts of Object.values(NATIVE_PARTS)) {
    if (parts.every(([, key]) => blocks[key])) continue;
    for (const [n, key] of parts) {
      const m = await readWithGrid(source, `layers.${l}.${n}` as TensorName);
      if (m.grid) grids[key] = m.grid;
      values[key] = m.values;
    }
  }
  return {
    attnNorm: await t("attn_norm"),
    ...values,
    bq: has("bq") ? await t("bq") : undefined,
    bk: has("bk") ? await t("bk") : undefined,
    bv: has("bv") ? await t("bv") : undefined,
    qNorm: has("q_norm") ? await t("q_norm") : undefined,
    kNorm: has("k_norm") ? await t("k_norm") : undefined,
    postAttnNorm: has("post_attn_norm") ? await t("post_attn_norm") : undefined,
    postFfnNorm: has("post_ffn_norm") ? await t("post_ffn_norm") : undefined,
    ffnNorm: await t("ffn_norm"),
    grids,
    blocks,
  };
}

async function writeGraph(dir: string, name: string, files: GraphFiles): Promise<string> {
  await writeFile(path.join(dir, `${name}.onnx`), files.model);
  const fh = await open(path.join(dir, `${name}.bin`), "w");
  try {
    for (const chunk of files.weights.chunks) await fh.write(chunk);
  } finally {
    await fh.close();
  }
  return `${name}.onnx`;
}

const FINAL_NORM_FILE = "final_norm.bin";

/**
 * Matrices read row by row in JS (the embedding table, one row per token; the LM head's rows for
 * the reduced head), stored as compactly as the quant allows: int8 blocks of 32 (within ~0.4% for
 * any weights), or, in an int4 package whose file holds them as Q4_0, the file's own int4 grid;
 * a K-quant or Q4_1/Q5_1 tensor as the file's own blocks (keepsFileRows).
 */
async function writeRows(
  dir: string,
  file: string,
  read: () => Promise<DequantizedTensor>,
  readRowBlocks: () => Promise<ReadBlocks | undefined>,
  cfg: ModelConfig,
  quant: WeightQuant,
  source: ModelSource,
  name: TensorName,
): Promise<StoredMatrix> {
  const rows = cfg.vocabSize;
  const cols = cfg.hiddenSize;
  const raw = keepsFileRows(source.tensors, name, quant) ? await readRowBlocks() : undefined;
  if (raw) {
    // The file's own blocks, which no engine block holds (K-quants, Q4_1/Q5_1): exact, and as small.
    await writeFile(path.join(dir, file), raw.bytes);
    const data = { offset: 0, length: raw.bytes.byteLength };
    return { file, type: "ggml", ggmlType: raw.type, rows, cols, blockSize: 0, data };
  }
  const { values, grid } = await read();
  if (quant === "f32" || quant === "f16") {
    const data = quant === "f32" ? values : float32ToFloat16(values);
    await writeFile(path.join(dir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { file, type: quant, rows, cols, blockSize: 0, data: { offset: 0, length: data.byteLength } };
  }
  const bits = rowsBits(quant, grid?.bits);
  const kept = keptGrid(bits, EMBEDDING_INT.blockSize, grid);
  const q = quantizeMatrix(values, rows, cols, bits, EMBEDDING_INT.blockSize, kept);
  const scalesBytes = new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength);
  const fh = await open(path.join(dir, file), "w");
  try {
    await fh.write(q.data);
    await fh.write(scalesBytes);
    if (q.zeroPoints) await fh.write(q.zeroPoints);
  } finally {
    await fh.close();
  }
  const scalesEnd = q.data.byteLength + scalesBytes.byteLength;
  return {
    file,
    type: bits === 4 ? "int4" : "int8",
    rows,
    cols,
    blockSize: EMBEDDING_INT.blockSize,
    data: { offset: 0, length: q.data.byteLength },
    scales: { offset: q.data.byteLength, length: scalesBytes.byteLength },
    ...(q.zeroPoints ? { zeroPoints: { offset: scalesEnd, length: q.zeroPoints.byteLength } } : {}),
  };
}

/**
 * Bits of a rows file: int4 only where the file's own grid is 4-bit (Q4_0) in an int4 package;
 * else int8. `gridBits`: the tensor's grid bits, from the grid read or from its type.
 */
export function rowsBits(quant: WeightQuant, gridBits: number | undefined): 4 | 8 {
  return quant === "int4" && gridBits === 4 ? 4 : EMBEDDING_INT.bits;
}

function storedHeadMatrix(head: GraphFiles, cfg: ModelConfig, o: LinearOptions): StoredMatrix {
  const at = (n: string) => head.weights.offsets.get(n);
  const base = { file: "head.bin", rows: cfg.vocabSize, cols: cfg.hiddenSize };
  if (o.quant === "int4" || o.quant === "int8") {
    return {
      ...base,
      type: o.quant,
      blockSize: o.blockSize,
      data: at("lm_head.q")!,
      scales: at("lm_head.scales"),
      zeroPoints: at("lm_head.zp"),
    };
  }
  if (o.quant === "f16") return { ...base, type: "f16-transposed", blockSize: 0, data: at("lm_head.w16")! };
  return { ...base, type: "f32-transposed", blockSize: 0, data: at("lm_head.w")! };
}

export function countParams(cfg: ModelConfig): number {
  const d = cfg.hiddenSize;
  const kvd = cfg.numKvHeads * cfg.headDim;
  const qd = cfg.numHeads * cfg.headDim;
  const perLayer =
    d * qd * 2 +
    d * kvd * 2 +
    3 * d * cfg.intermediateSize +
    2 * d +
    (cfg.attentionBias ? qd + 2 * kvd : 0) +
    (cfg.qkNorm ? 2 * cfg.headDim : 0) +
    (cfg.postNorms ? 2 * d : 0);
  const embed = cfg.vocabSize * d;
  return perLayer * cfg.numLayers + embed + (cfg.tiedEmbeddings ? 0 : embed) + d;
}

async function folderBytes(dir: string, m: Manifest): Promise<number> {
  const graphs = [...m.graphs.layers, ...m.graphs.attention, ...(m.graphs.head ? [m.graphs.head] : [])];
  const files = new Set([
    ...graphs,
    ...graphs.map((f) => f.replace(/\.onnx$/, ".bin")),
    ...(m.native?.ffn ?? []),
    ...(m.native?.dense ?? []),
    ...(m.native?.attention ?? []),
    ...(m.native?.head ? [m.native.head] : []),
    ...(m.native?.postFfnNorms ? [m.native.postFfnNorms.file] : []),
    ...(m.native?.kept ? [m.native.kept] : []),
    m.embedding.file,
    ...(m.lmHead ? [m.lmHead.file] : []),
    m.finalNorm.file,
    m.tokenizer.file,
    m.tokenizer.configFile,
  ]);
  let total = 0;
  for (const f of files) total += (await stat(path.join(dir, f))).size;
  return total;
}

/** Whether the package's tokenizer_config.json carries a chat template (a base model's does not). */
async function hasChatTemplate(configFile: string): Promise<boolean> {
  const config = JSON.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
  return chatTemplateOf(config) !== undefined;
}
