import { readFile } from "node:fs/promises";
import { readGgufMetadata } from "../../formats/gguf.js";
import { TextTokenizer } from "../text-tokenizer.js";

// Loading the shared fixture tokenizers for tests.

export async function tokenizerFromGgufFile(path: string, pre?: string): Promise<TextTokenizer> {
  const metadata = await readGgufMetadata(path);
  if (pre !== undefined) metadata.set("tokenizer.ggml.pre", pre);
  return TextTokenizer.fromSource({ kind: "gguf", metadata });
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}
