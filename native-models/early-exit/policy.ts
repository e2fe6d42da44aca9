// predictors.json: what calibration learned about a model's early exits (and its lossless
// drafting), and how the knob maps onto exit thresholds. Layers are 1-based here ("exit after
// layer 3" = layer 3). The fitted maps (exit heads) are float32 arrays in a binary file beside it
// (maps.bin), named here with their offsets.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { AffineMap } from "./exit-head.js";
import { DraftTableSchema } from "../runtime/draft-table.js";

export const POLICY_VERSION = 2;

/** A fitted affine map stored in the maps file: w then b, float32, starting at `offset` bytes. */
const StoredMapSchema = z
  .object({
    kind: z.enum(["full", "diag"]),
    d: z.number().int().min(1),
    inputs: z.number().int().min(1),
    offset: z.number().int().min(0),
  })
  .refine((m) => m.kind === "full" || m.inputs === m.d, "a diagonal map has as many inputs as outputs");
export type StoredMap = z.infer<typeof StoredMapSchema>;

export const ExitPolicySchema = z.object({
  version: z.literal(POLICY_VERSION),
  /** Token ids the shortlist head scores: what the model predicts in calibration text. */
  shortlist: z.array(z.number().int().min(0)).min(1),
  /** Layers where a token may exit (chosen from calibration statistics). */
  checkLayers: z.array(z.number().int().min(1)),
  /** minConfidence[layer][i]: a token exits after `layer` when the shortlist's top probability reaches this at knob KNOB_GRID[i] (runtime/knob.ts; > 1: never). */
  minConfidence: z.record(z.string(), z.array(z.number())),
  /** K/V of skipped layers: left out (SpecEE) or computed exactly later, batched (see runtime/decoder.ts). */
  kvMode: z.enum(["masked", "deferred"]),
  /** The maps file (beside predictors.json) and what is in it. */
  maps: z.object({
    file: z.string(),
    /** Exit heads by layer; a layer without one uses the plain logit lens. */
    exitHeads: z.record(z.string(), StoredMapSchema),
  }),
  /**
   * Lossless decoding: self-drafting through the first `layer` layers while confident, if it pays
   * here, and the model's habits in its calibration text (runtime/draft-table.ts; older
   * calibrations have none).
   */
  lossless: z.object({
    selfDraft: z.object({ layer: z.number().int().min(1), minConfidence: z.number() }).nullable(),
    table: DraftTableSchema.optional(),
  }),
  stats: z.record(z.string(), z.unknown()),
});
export type ExitPolicy = z.infer<typeof ExitPolicySchema>;

/** Packs maps into one buffer, returning the stored descriptions (offsets in bytes). */
export function packMaps(maps: Record<string, AffineMap>): {
  bytes: Uint8Array;
  stored: Record<string, StoredMap>;
} {
  const stored: Record<string, StoredMap> = {};
  let total = 0;
  for (const [name, m] of Object.entries(maps)) {
    stored[name] = { kind: m.kind, d: m.d, inputs: m.inputs, offset: total };
    total += (m.w.length + m.b.length) * 4;
  }
  const out = new Float32Array(total / 4);
  for (const [name, m] of Object.entries(maps)) {
    const at = stored[name].offset / 4;
    out.set(m.w, at);
    out.set(m.b, at + m.w.length);
  }
  return { bytes: new Uint8Array(out.buffer), stored };
}

/** Reads the maps a policy names from its maps file in `dir`. */
export async function readMaps(
  dir: string,
  policy: ExitPolicy,
): Promise<{ exitHeads: Map<number, AffineMap> }> {
  const buf = await readFile(path.join(dir, policy.maps.file));
  const floats = new Float32Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 4));
  const load = (m: StoredMap): AffineMap => {
    const wLen = m.kind === "full" ? m.d * m.inputs : m.d;
    const at = m.offset / 4;
    if (m.offset % 4 || at + wLen + m.d > floats.length)
      throw new Error(`${policy.maps.file} is shorter than predictors.json says (re-run calibration)`);
    return {
      kind: m.kind,
      d: m.d,
      inputs: m.inputs,
      w: floats.slice(at, at + wLen),
      b: floats.slice(at + wLen, at + wLen + m.d),
    };
  };
  const exitHeads = new Map<number, AffineMap>();
  for (const [layer, m] of Object.entries(policy.maps.exitHeads)) exitHeads.set(Number(layer), load(m));
  return { exitHeads };
}
