// predictors.json: what calibration learned about a model's early exits, and how the knob maps
// onto predictor thresholds. Layers are 1-based here ("exit after layer 3" = layer 3).
import { z } from "zod";

export const KNOB_GRID = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

const PredictorWeightsSchema = z.object({
  inputs: z.number().int(),
  hidden: z.number().int(),
  w1: z.array(z.number()),
  b1: z.array(z.number()),
  w2: z.array(z.number()),
  b2: z.number(),
  mean: z.array(z.number()),
  std: z.array(z.number()),
});

/** y = W·x + b with W [d, inputs] row-major (draft head, exit heads). */
const AffineSchema = z
  .object({ d: z.number().int().min(1), w: z.array(z.number()), b: z.array(z.number()) })
  .refine((a) => a.b.length === a.d && a.w.length > 0 && a.w.length % a.d === 0, "affine map: W must be d × inputs and b of length d");

export const CandidateSourceName = z.enum(["draft-layer", "draft-head", "ngram"]);
export type CandidateSourceName = z.infer<typeof CandidateSourceName>;

export const ExitPolicySchema = z.object({
  version: z.literal(1),
  k: z.number().int().min(1).max(16),
  candidateSource: CandidateSourceName,
  /** Layer whose full LM head gives the candidates (draft-layer source); checks start here. */
  draftLayer: z.number().int().min(1),
  /** K/V of skipped layers: left out (SpecEE) or computed exactly later, batched (see runtime/decoder.ts). */
  kvMode: z.enum(["masked", "deferred"]),
  /** Layers that always get a check (chosen from calibration statistics). */
  offlineLayers: z.array(z.number().int()),
  /** Online scheduling: also check layers x+offset for the exit layers x of the last `onlineWindow` tokens. */
  onlineOffsets: z.array(z.number().int()),
  onlineWindow: z.number().int().min(0),
  predictors: z.record(z.string(), PredictorWeightsSchema),
  /** The trained draft head (draft-head source). */
  draftHead: AffineSchema.optional(),
  /** thresholds[layer][i] is the score threshold at knob KNOB_GRID[i]; > 1 means never exit there. */
  thresholds: z.record(z.string(), z.array(z.number())),
  /**
   * minConfidence[layer][i]: verification also needs the exit head's top probability to reach this
   * at knob KNOB_GRID[i] (absent: argmax among the candidates is enough, as in SpecEE).
   */
  minConfidence: z.record(z.string(), z.array(z.number())).optional(),
  /** Trained exit heads (tuned lens) per layer; a layer without one uses the plain logit lens. */
  exitHeads: z.record(z.string(), AffineSchema).optional(),
  stats: z.record(z.string(), z.unknown()),
});
export type ExitPolicy = z.infer<typeof ExitPolicySchema>;

/** Threshold for `layer` at `knob`, interpolated on the grid; Infinity when the layer has no predictor. */
export function thresholdAt(policy: ExitPolicy, layer: number, knob: number): number {
  return onGrid(policy.thresholds[String(layer)], knob);
}

/** The verification's minimum top probability for `layer` at `knob` (0 when the policy has none). */
export function minConfidenceAt(policy: ExitPolicy, layer: number, knob: number): number {
  return policy.minConfidence ? onGrid(policy.minConfidence[String(layer)], knob) : 0;
}

/** The row's value at `knob`, interpolated on KNOB_GRID; Infinity (never) without a row. */
function onGrid(row: number[] | undefined, knob: number): number {
  if (!row) return Infinity;
  if (knob <= KNOB_GRID[0]) return row[0];
  for (let i = 1; i < KNOB_GRID.length; i++) {
    if (knob <= KNOB_GRID[i]) {
      const t = (knob - KNOB_GRID[i - 1]) / (KNOB_GRID[i] - KNOB_GRID[i - 1]);
      return row[i - 1] + t * (row[i] - row[i - 1]);
    }
  }
  return row[row.length - 1];
}
