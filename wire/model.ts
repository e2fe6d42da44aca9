// Models as every side sees them: the engine host reports them, the app's back end lists them,
// the renderer shows them. Declared once here (this folder imports nothing but zod).
import { z } from "zod";

export const Id = z.string().min(1).max(200);

export const Quant = z.enum(["int4", "int8", "f16", "f32"]);
export type Quant = z.infer<typeof Quant>;

/** One point of a model's measured speed/accuracy curve (from calibration). */
export const KnobPoint = z.object({
  knob: z.number(),
  agreement: z.number(),
  meanExitLayer: z.number(),
  speedup: z.number(),
});
export type KnobPoint = z.infer<typeof KnobPoint>;

/**
 * How a package's weights relate to its source file's: how many of the file's matrices it holds
 * with exactly the file's values, of how many, and the file's block types ("Q4_0", "F32"…).
 */
export const SourceBlocks = z.object({
  kept: z.number().int(),
  of: z.number().int(),
  types: z.array(z.string()),
  /**
   * How the import kept the file (SOURCE_FORM). Absent in packages from before form 2: those
   * stored a 4-bit file's wider matrices (Q5_0, Q8_0, Q6_K) at 4 bits and rounded Q4_K again.
   */
  form: z.number().int().optional(),
});

/**
 * 2: every matrix at no fewer bits than its type has, and a file's Q4_K blocks kept as they are.
 * 3: Q5_K and Q6_K blocks in 6-bit codes (form 2 held them in 8-bit codes, which engines from
 * form 3 on no longer read; form 2 packages of other types are the same as form 3's).
 * 4: Q4_1 and Q5_1 blocks kept as they are (forms 2 and 3 rounded them again; packages of other
 * types are the same as form 4's).
 */
export const SOURCE_FORM = 4;
export type SourceBlocks = z.infer<typeof SourceBlocks>;

/** Whether this version runs a package made with `blocks` as the file is (else: import it again). */
export function keepsSourceForm(blocks: SourceBlocks): boolean {
  if (blocks.form === SOURCE_FORM) return true;
  const rounded = (types: string[]) => blocks.types.some((t) => types.includes(t));
  if (blocks.form === 3) return !rounded(["Q4_1", "Q5_1"]);
  return blocks.form === 2 && !rounded(["Q4_1", "Q5_1", "Q5_K", "Q6_K"]);
}

export const ModelSummary = z.object({
  id: Id,
  name: z.string(),
  arch: z.string(),
  params: z.number(),
  quant: Quant,
  layers: z.number().int(),
  contextLength: z.number().int(),
  sizeBytes: z.number(),
  /**
   * Bytes of K/V cache each token of context takes once loaded (float32 keys and values, every
   * layer); with sizeBytes it says how much memory the model needs at a context length.
   */
  kvBytesPerToken: z.number().optional(),
  sourceFormat: z.enum(["gguf", "hf", "llama2c"]),
  /** The file (or folder) name it was imported from. */
  sourceFile: z.string(),
  /** Absent for packages from before it was recorded: those rounded every matrix again. */
  sourceBlocks: SourceBlocks.optional(),
  createdAt: z.string(),
  /**
   * How the model is meant to be prompted: "chat" (its tokenizer ships a chat template) or
   * "completion" (a base model: it continues the text it is given).
   */
  mode: z.enum(["chat", "completion"]),
  calibration: z.object({
    status: z.enum(["none", "calibrated"]),
    curve: z.array(KnobPoint),
    /** Lossless decoding's measured speed against full depth (the slider's first stop), when measured. */
    lossless: z.object({ speedup: z.number() }).nullable().optional(),
    /** Which kernels ran while it was measured, e.g. "native avx512-vnni"; absent when not recorded. */
    measuredOn: z.string().optional(),
    /** Why the stored curve no longer describes this engine (it is measured again); absent when it does. */
    stale: z.string().optional(),
  }),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

/** Steps of an import (calibration runs as a job of its own, stage "calibrate"). */
export const ImportStage = z.enum(["read", "convert", "quantize", "write", "calibrate"]);
export type ImportStage = z.infer<typeof ImportStage>;

/** Bytes of the package each quantization the app offers would give a source. */
export const QuantSizes = z.object({ int4: z.number(), int8: z.number(), f16: z.number() });
export type QuantSizes = z.infer<typeof QuantSizes>;

/**
 * What an import will make, known as soon as its source's header is read: the quantization it
 * uses (the chosen one, or the engine's default) and the size of the package at each choice.
 */
export const ImportPlan = z.object({ quant: Quant, sizes: QuantSizes, blocks: SourceBlocks.optional() });
export type ImportPlan = z.infer<typeof ImportPlan>;
