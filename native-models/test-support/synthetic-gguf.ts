// Small random models that llama.cpp loads as it would a real one: a real vocabulary's tokenizer
// keys (copied from a vocabulary-only GGUF) and weights at a realistic scale (norm weights near 1),
// so the same file can run in our engine and in node-llama-cpp and their logits be compared.
import { readGgufMetadata } from "../formats/gguf.js";
import type { Architecture } from "../formats/model-source.js";
import type { MetaValue, Plain } from "./gguf-writer.js";
import { tinyGguf, tinyModel, type TinyModel } from "./tiny-models.js";

type Vocabulary = { keys: Record<string, Plain>; size: number };
const vocabularies = new Map<string, Promise<Vocabulary>>();

/** Every tokenizer.* key of a vocabulary-only GGUF, with the GGUF types llama.cpp expects (read once). */
export function vocabularyKeys(vocabGguf: string): Promise<Vocabulary> {
  let v = vocabularies.get(vocabGguf);
  if (!v) vocabularies.set(vocabGguf, (v = readVocabularyKeys(vocabGguf)));
  return v;
}

async function readVocabularyKeys(vocabGguf: string): Promise<Vocabulary> {
  const meta = await readGgufMetadata(vocabGguf);
  const keys: Record<string, Plain> = {};
  const array = (of: "f32" | "i32" | "str", v: unknown[]): MetaValue => ({
    t: "arr",
    of,
    v: v.map((x) => ({ t: of, v: x as number | string })),
  });
  for (const [key, v] of meta) {
    if (!key.startsWith("tokenizer.")) continue;
    if (key.endsWith(".scores")) keys[key] = array("f32", v as unknown[]);
    else if (key.endsWith(".token_type")) keys[key] = array("i32", v as unknown[]);
    else if (Array.isArray(v)) keys[key] = array("str", v);
    else if (key.endsWith("_id")) keys[key] = { t: "u32", v: v as number };
    else keys[key] = v as Plain;
  }
  const tokens = meta.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens)) throw new Error(`${vocabGguf} has no tokenizer.ggml.tokens`);
  return { keys, size: tokens.length };
}

/**
 * A random model of `arch` over a vocabulary of `vocab` tokens: hidden 64, 8 query heads sharing 4
 * KV heads unless told otherwise. Norm weights are 1 ± 0.1 (as in a trained model) rather than
 * near 0, so every layer contributes.
 */
export function syntheticModel(
  arch: Architecture,
  vocab: number,
  opts: Omit<Parameters<typeof tinyModel>[0] & object, "arch" | "vocab"> = {},
): TinyModel {
  const m = tinyModel({ arch, vocab, hidden: 64, ff: 160, heads: 8, kvHeads: 4, layers: 3, ...opts });
  for (const [name, t] of m.tensors) {
    if (/norm$/.test(name)) t.data.forEach((v, i) => (t.data[i] = 1 + v));
    // Sharper attention than random weights give, so a masking or rotary error shows.
    if (/\.(wq|wk)$/.test(name)) t.data.forEach((v, i) => (t.data[i] = v * 4));
  }
  return m;
}

/** The model as an f32 GGUF carrying the vocabulary file's tokenizer keys. */
export async function syntheticGguf(
  m: TinyModel,
  vocabGguf: string,
  extraMeta: Record<string, Plain> = {},
): Promise<Uint8Array> {
  const { keys, size } = await vocabularyKeys(vocabGguf);
  if (size !== m.config.vocabSize)
    throw new Error(`the model has ${m.config.vocabSize} tokens, the vocabulary ${size}`);
  return tinyGguf(m, { extraMeta: { ...keys, ...extraMeta } }).bytes;
}
