import { readFile } from "node:fs/promises";
import { readGgufMetadata } from "../../formats/gguf.js";
import { buildTokenizerJson } from "../build.js";
import { TextTokenizer } from "../text-tokenizer.js";

// Loading the shared fixture tokenizers for tests.

export async function tokenizerFromGgufFile(path: string, pre?: string): Promise<TextTokenizer> {
  const metadata = await readGgufMetadata(path);
  if (pre !== undefined) metadata.set("tokenizer.ggml.pre", pre);
  return TextTokenizer.fromBuilt(buildTokenizerJson({ kind: "gguf", metadata }));
}

export async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8"));
}

/**
 * llama2.c tokenizer.bin: int32 max_token_length, then per token a float32 score, an int32 byte length
 * and the bytes. Test-only stand-in until native-models/formats exports its own reader.
 */
export async function readLlama2cTokenizerBin(path: string, vocabSize: number): Promise<{ pieces: string[]; scores: number[] }> {
  const buf = await readFile(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  const pieces: string[] = [];
  const scores: number[] = [];
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    scores.push(view.getFloat32(off, true));
    const len = view.getInt32(off + 4, true);
    pieces.push(utf8.decode(buf.subarray(off + 8, off + 8 + len)));
    off += 8 + len;
  }
  if (off !== buf.byteLength) throw new Error(`tokenizer.bin: ${buf.byteLength - off} bytes left after ${vocabSize} tokens`);
  return { pieces, scores };
}
