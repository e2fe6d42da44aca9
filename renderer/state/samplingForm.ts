// The sampling form: text fields <-> the contract's Sampling, validated with the contract's schema
// so the form can never send what the back end would refuse.
import { Sampling } from "../../electron/contract";

export type SamplingField = keyof Sampling;
export type SamplingDraft = Record<SamplingField, string>;

export interface FieldSpec {
  field: SamplingField;
  label: string;
  min: number;
  max: number;
  step: number;
  integer: boolean;
  help: string;
}

export const samplingFields: FieldSpec[] = [
  {
    field: "temperature",
    label: "Temperature",
    min: 0,
    max: 5,
    step: 0.05,
    integer: false,
    help: "Higher is more varied; 0 always picks the most likely token.",
  },
  {
    field: "topP",
    label: "Top-p",
    min: 0,
    max: 1,
    step: 0.01,
    integer: false,
    help: "Sample only from the smallest set of tokens whose probabilities add up to p.",
  },
  {
    field: "topK",
    label: "Top-k",
    min: 0,
    max: 1000,
    step: 1,
    integer: true,
    help: "Sample only from the k most likely tokens (0 = no limit).",
  },
  {
    field: "minP",
    label: "Min-p",
    min: 0,
    max: 1,
    step: 0.01,
    integer: false,
    help: "Drop tokens less likely than this share of the most likely one.",
  },
  {
    field: "repetitionPenalty",
    label: "Repetition penalty",
    min: 0.5,
    max: 2,
    step: 0.01,
    integer: false,
    help: "Above 1 discourages repeating tokens.",
  },
  {
    field: "maxTokens",
    label: "Max tokens",
    min: 1,
    max: 32768,
    step: 1,
    integer: true,
    help: "The longest answer, in tokens. Empty: automatic, a quarter of the model's context (at most 1024), so the conversation keeps room.",
  },
  {
    field: "seed",
    label: "Seed",
    min: 0,
    max: 2 ** 31 - 1,
    step: 1,
    integer: true,
    help: "Same seed, same settings, same answer. Leave empty for a random seed.",
  },
];

export function toDraft(s: Sampling): SamplingDraft {
  return {
    temperature: String(s.temperature),
    topP: String(s.topP),
    topK: String(s.topK),
    minP: String(s.minP),
    repetitionPenalty: String(s.repetitionPenalty),
    maxTokens: s.maxTokens === null ? "" : String(s.maxTokens),
    seed: s.seed === null ? "" : String(s.seed),
  };
}

export type ParseResult =
  { ok: true; sampling: Sampling } | { ok: false; errors: Partial<Record<SamplingField, string>> };

export function parseDraft(draft: SamplingDraft): ParseResult {
  const errors: Partial<Record<SamplingField, string>> = {};
  const values: Record<string, number | null> = {};
  for (const spec of samplingFields) {
    const raw = draft[spec.field].trim();
    // Empty means "random" for the seed and "automatic" for the answer length.
    if ((spec.field === "seed" || spec.field === "maxTokens") && raw === "") {
      values[spec.field] = null;
      continue;
    }
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) {
      errors[spec.field] = `${spec.label} must be a number.`;
      continue;
    }
    if (spec.integer && !Number.isInteger(n)) {
      errors[spec.field] = `${spec.label} must be a whole number.`;
      continue;
    }
    if (n < spec.min || n > spec.max) {
      errors[spec.field] = `${spec.label} must be between ${spec.min} and ${spec.max}.`;
      continue;
    }
    values[spec.field] = n;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  const parsed = Sampling.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const f = issue.path[0] as SamplingField;
      errors[f] = issue.message;
    }
    return { ok: false, errors };
  }
  return { ok: true, sampling: parsed.data };
}

export function sameSampling(a: Sampling, b: Sampling): boolean {
  return samplingFields.every(({ field }) => a[field] === b[field]);
}
