import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ModelFormatError } from "../formats/errors.js";
import { TextTokenizer } from "./text-tokenizer.js";
import type { BuiltTokenizer } from "./types.js";

// A converted model keeps its tokenizer as tokenizer.json + tokenizer_config.json, the Hugging Face
// file names, so the folder is also usable by other HF-compatible tools.

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

export async function saveTokenizer(
  dir: string,
  built: Pick<BuiltTokenizer, "tokenizerJson" | "tokenizerConfig">,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, TOKENIZER_FILE), JSON.stringify(built.tokenizerJson));
  await writeFile(path.join(dir, TOKENIZER_CONFIG_FILE), JSON.stringify(built.tokenizerConfig, null, 2));
}

export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const json = await readJsonFile(path.join(dir, TOKENIZER_FILE), true);
  const config = await readJsonFile(path.join(dir, TOKENIZER_CONFIG_FILE), false);
  return new TextTokenizer(json, config ?? {});
}

async function readJsonFile(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ModelFormatError(
      "not_found",
      `Cannot read ${path.basename(file)}: ${(e as Error).message}`,
      file,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(
      "bad_tokenizer",
      `${path.basename(file)} is not valid JSON: ${(e as Error).message}`,
      file,
    );
  }
}
