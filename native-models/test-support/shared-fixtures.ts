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
  reference: (name: "greedy" | "stories" | "logits" | "q8_0") => sharedPath(`models/stories260K/reference/${name}.json`),
};

export const vocabOnly = {
  llamaSpm: sharedPath("models/vocab-only/ggml-vocab-llama-spm.gguf"),
  gpt2: sharedPath("models/vocab-only/ggml-vocab-gpt-2.gguf"),
};

export const syntheticGgufTool = sharedPath("tools/make-synthetic-gguf.mjs");
