import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Real test models live beside the repository in ../shared (never copied into it).
// Under CI they must be present, so a missing fixture fails loudly; elsewhere the
// tests that need them are skipped with a printed reason.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sharedRoot = process.env.EXITLANE_SHARED_DIR ?? path.resolve(repoRoot, "../shared");

export function sharedPath(...parts: string[]): string {
  return path.join(sharedRoot, ...parts);
}

export const isCi = Boolean(process.env.CI);

/** True when the fixture exists; throws under CI when it does not; otherwise prints why tests skip. */
export function haveShared(...parts: string[]): boolean {
  const p = sharedPath(...parts);
  if (existsSync(p)) return true;
  if (isCi) throw new Error(`Required test fixture missing under CI: ${p}`);
  console.warn(`[skip] fixture not found: ${p} (set EXITLANE_SHARED_DIR to run these tests)`);
  return false;
}

export const stories = {
  dir: sharedPath("models/stories260K"),
  gguf: sharedPath("models/stories260K/gguf/stories260K-f32.gguf"),
  ggufQ8: sharedPath("models/stories260K/gguf/stories260K-q8_0.gguf"),
  hf: sharedPath("models/stories260K/hf"),
  llama2c: sharedPath("models/stories260K/llama2c/stories260K.bin"),
  llama2cTokenizer: sharedPath("models/stories260K/llama2c/tok512.bin"),
  reference: (name: "greedy" | "stories" | "logits" | "q8_0") =>
    sharedPath(`models/stories260K/reference/${name}.json`),
};

/** kjv16: a 16-layer Llama trained on the King James Bible (early exit is measured on it). */
export const kjv16 = {
  dir: sharedPath("models/kjv16"),
  gguf: sharedPath("models/kjv16/kjv16-f32.gguf"),
  ggufQ8: sharedPath("models/kjv16/kjv16-q8_0.gguf"),
  reference: (name: "greedy" | "lens") => sharedPath(`models/kjv16/reference/${name}.json`),
  evalChapters: () => [0, 1, 2, 3, 4, 5].map((i) => sharedPath(`models/kjv16/eval/chapter-${i}.txt`)),
};

export const vocabOnly = {
  llamaSpm: sharedPath("models/vocab-only/ggml-vocab-llama-spm.gguf"),
  gpt2: sharedPath("models/vocab-only/ggml-vocab-gpt-2.gguf"),
};

export const syntheticGgufTool = sharedPath("tools/make-synthetic-gguf.mjs");
