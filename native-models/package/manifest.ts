// manifest.json: everything the runtime needs to know about a converted model package.
import { z } from "zod";
import { SUPPORTED_ARCHITECTURES } from "../formats/model-source.js";
import { SourceBlocks } from "../../wire/model.js";

/** 2: the native kernels' form is `native` (it was `sparse` in version 1, which still reads). */
export const MANIFEST_VERSION = 2;

const ModelConfigSchema = z.object({
  arch: z.enum(SUPPORTED_ARCHITECTURES),
  name: z.string(),
  hiddenSize: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  contextLength: z.number().int().positive(),
  rmsNormEps: z.number().positive(),
  ropeTheta: z.number().positive(),
  ropeScaling: z
    .union([
      z.object({
        type: z.literal("llama3"),
        factor: z.number(),
        lowFreqFactor: z.number(),
        highFreqFactor: z.number(),
        originalContextLength: z.number(),
      }),
      z.object({ type: z.literal("linear"), factor: z.number() }),
      z.object({
        type: z.literal("longrope"),
        shortFactor: z.array(z.number()),
        longFactor: z.array(z.number()),
        originalContextLength: z.number(),
        attentionFactor: z.number(),
      }),
    ])
    .optional(),
  /** Partial rotary (Phi-4-mini); absent in older packages and whenever the whole head rotates. */
  rotaryDim: z.number().int().positive().optional(),
  ropeInterleaved: z.boolean(),
  attentionBias: z.boolean(),
  tiedEmbeddings: z.boolean(),
  // Fields added after the first packages: optional, absent meaning the old behaviour.
  qkNorm: z.boolean().optional(),
  slidingWindow: z.number().int().positive().optional(),
  slidingWindowLayers: z.array(z.boolean()).optional(),
  ropeLocalTheta: z.number().positive().optional(),
  embedScale: z.number().positive().optional(),
  attentionScale: z.number().positive().optional(),
  postNorms: z.boolean().optional(),
  activation: z.enum(["silu", "gelu_tanh"]).optional(),
  finalLogitSoftcap: z.number().positive().optional(),
});

/** Where a quantized matrix lives inside a graph's external-data file, so JS can read rows of it. */
const StoredMatrix = z.object({
  file: z.string(),
  /** "ggml": the file's own blocks of `ggmlType`, row after row (dequantized by ggml's formula). */
  type: z.enum(["int4", "int8", "f16", "f32", "f32-transposed", "f16-transposed", "ggml"]),
  ggmlType: z.string().optional(),
  rows: z.number().int(),
  cols: z.number().int(),
  blockSize: z.number().int(),
  data: z.object({ offset: z.number().int(), length: z.number().int() }),
  scales: z.object({ offset: z.number().int(), length: z.number().int() }).optional(),
  zeroPoints: z.object({ offset: z.number().int(), length: z.number().int() }).optional(),
});
export type StoredMatrix = z.infer<typeof StoredMatrix>;

export const Manifest = z.object({
  formatVersion: z.literal(MANIFEST_VERSION),
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  config: ModelConfigSchema,
  quant: z.enum(["int4", "int8", "f16", "f32"]),
  blockSize: z.number().int(),
  params: z.number(),
  source: z.object({
    path: z.string(),
    format: z.enum(["gguf", "hf", "llama2c"]),
    bytes: z.number(),
    /** XXH3-128 of the source's bytes (convert/source-hash.ts): what the library knows a file by. */
    xxh128: z.string().optional(),
    /** What packages recorded before XXH3: not compared (an import of the same file adds a copy once). */
    sha256: z.string().optional(),
  }),
  graphs: z.object({
    layers: z.array(z.string()),
    /** Attention-only layer graphs (the FFN then runs in the native kernels). */
    attention: z.array(z.string()),
    head: z.string(),
  }),
  embedding: StoredMatrix,
  /**
   * The LM head's rows, for the reduced head of early-exit features. Absent: the native head
   * (`native.head`) is the only copy, and the rows are read from it.
   */
  lmHead: StoredMatrix.optional(),
  finalNorm: z.object({ file: z.string(), offset: z.number().int(), length: z.number().int() }),
  tokenizer: z.object({
    file: z.string(),
    configFile: z.string(),
    /** The tokenizer ships a chat template (false: a base model, which continues text); absent in older packages. */
    chatTemplate: z.boolean().optional(),
  }),
  sizeBytes: z.number(),
  /**
   * The file's own weights against the package's: how many of its matrices the package holds with
   * exactly the file's values (their block grid kept), of how many, and the file's block types.
   * Absent in packages from before it was recorded: those rounded every matrix again.
   */
  sourceBlocks: SourceBlocks.optional(),
  /** Set once calibration has run (predictors.json beside it). */
  calibration: z
    .object({
      file: z.string(),
      curve: z.array(
        z.object({ knob: z.number(), agreement: z.number(), meanExitLayer: z.number(), speedup: z.number() }),
      ),
      /** Lossless decoding measured at calibration: speed against full depth (greedy) and the self-draft setting. */
      lossless: z
        .object({
          speedup: z.number(),
          selfDraft: z.object({ layer: z.number(), minConfidence: z.number() }).nullable(),
        })
        .optional(),
      /** The kernels that ran the measurements ("native avx2", "onnxruntime MatMulNBits"); absent before it was recorded. */
      kernels: z.string().optional(),
      /** The engine's DECODE_REVISION when it was measured; absent before it was recorded (revision 1). */
      decodeRevision: z.number().int().optional(),
      seconds: z.number(),
    })
    .optional(),
  /**
   * The native kernels' form of the layers (written when they were available at import): each
   * FFN as per-neuron rows (CATS-sparse passes) and as packed matrices, the attention halves, the
   * head, and — once calibrated — per-layer CATS thresholds for a grid of sparsity levels.
   */
  native: z
    .object({
      bits: z.union([z.literal(4), z.literal(8)]),
      ffn: z.array(z.string()),
      /**
       * The same FFNs as packed dense matrices (dense passes read only these, and a model whose
       * knob never uses sparsity loads nothing else); absent in older packages.
       */
      dense: z.array(z.string()).optional(),
      /** Native attention halves (decode runs whole layers in the kernels); absent in older packages. */
      attention: z.array(z.string()).optional(),
      /** The LM head with its final norm in the kernels' layout. */
      head: z.string().optional(),
      /**
       * The GGUF itself, kept as the user's file is (convert/kept-file.ts): the layers and the
       * head are laid out from its blocks at load, so `dense`, `attention` and `head` are absent.
       */
      kept: z.string().optional(),
      /** Per-layer RMSNorm weights on the FFN output (Gemma 3), [layers, d] float32. */
      postFfnNorms: z
        .object({ file: z.string(), offset: z.number().int(), length: z.number().int() })
        .optional(),
      thresholds: z
        .object({
          levels: z.array(z.number()),
          byLayer: z.array(z.array(z.number())),
          agreement: z.array(z.number().nullable()).optional(),
          speedup: z.array(z.number().nullable()).optional(),
        })
        .optional(),
    })
    .optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/**
 * A manifest as stored, brought to this version before it is validated: version 1 named the
 * native form `sparse`. Anything else is returned as it is, for the schema to judge.
 */
export function upgradeManifest(raw: unknown): unknown {
  if (!raw || typeof raw !== "object") return raw;
  const stored = raw as Record<string, unknown>;
  if (stored.formatVersion !== 1) return raw;
  const { sparse, ...rest } = stored;
  return { ...rest, formatVersion: MANIFEST_VERSION, ...(sparse === undefined ? {} : { native: sparse }) };
}
