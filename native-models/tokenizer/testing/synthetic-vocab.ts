import { writeFileSync } from "node:fs";
import path from "node:path";
import { meta, writeGguf, type MetaValue, type Plain } from "../../test-support/gguf-writer.js";

// Vocabulary-only GGUF files derived from a real one with extra tokens (e.g. ChatML's <|im_start|>),
// so chat prompts can be compared with llama.cpp on special tokens the fixtures lack.

export interface ExtraToken {
  text: string;
  /** GGUF token type: 3 control, 4 user-defined. */
  type: number;
}

/** GGUF types llama.cpp insists on; everything else is guessed from the JS value. */
function typed(key: string, v: unknown): MetaValue {
  if (typeof v === "number" && Number.isInteger(v) && !key.endsWith("epsilon")) return { t: "u32", v };
  if (typeof v === "number") return { t: "f32", v };
  if (Array.isArray(v) && key.endsWith("token_type"))
    return { t: "arr", of: "i32", v: v.map((x) => ({ t: "i32", v: x as number })) };
  if (Array.isArray(v) && key.endsWith("scores"))
    return { t: "arr", of: "f32", v: v.map((x) => ({ t: "f32", v: x as number })) };
  if (Array.isArray(v)) return { t: "arr", of: "str", v: v.map((x) => ({ t: "str", v: String(x) })) };
  return meta(v as Plain);
}

/** Writes base + extra tokens (+ overriding keys) to dir/name; returns the path and the new ids. */
export function writeVocabGguf(
  dir: string,
  name: string,
  base: ReadonlyMap<string, unknown>,
  extra: ExtraToken[],
  /** Keys to set, given the ids the extra tokens received (undefined deletes a key). */
  overrides: (ids: Record<string, number>) => Record<string, unknown> = () => ({}),
): { path: string; ids: Record<string, number> } {
  const tokens = [...(base.get("tokenizer.ggml.tokens") as string[])];
  const types = [...(base.get("tokenizer.ggml.token_type") as number[])];
  const scores = base.has("tokenizer.ggml.scores")
    ? [...(base.get("tokenizer.ggml.scores") as number[])]
    : undefined;
  const ids: Record<string, number> = {};
  for (const t of extra) {
    ids[t.text] = tokens.length;
    tokens.push(t.text);
    types.push(t.type);
    scores?.push(0);
  }
  const all = new Map<string, unknown>(base);
  all.set("tokenizer.ggml.tokens", tokens);
  all.set("tokenizer.ggml.token_type", types);
  if (scores) all.set("tokenizer.ggml.scores", scores);
  for (const [k, v] of Object.entries(overrides(ids))) all.set(k, v);
  const metadata: Record<string, Plain> = {};
  for (const [k, v] of all) if (v !== undefined) metadata[k] = typed(k, v);
  const file = path.join(dir, name);
  writeFileSync(file, writeGguf({ metadata }).bytes);
  return { path: file, ids };
}
