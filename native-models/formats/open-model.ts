import { stat } from "node:fs/promises";
import path from "node:path";
import { BinaryFile, fsError, statOrNull } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { openGguf } from "./gguf-model.js";
import { openHfFolder } from "./hf-folder.js";
import { LLAMA2C_HEADER_BYTES, llama2cExpectedSize, openLlama2c, parseLlama2cHeader } from "./llama2c.js";
import type { ModelSource } from "./model-source.js";

// One entry point for "the user gave us this path": detect the format from the content, not the name.

const SUPPORTED =
  "supported: a GGUF file (.gguf), a Hugging Face folder (config.json + model.safetensors or shards), or a llama2.c checkpoint (.bin)";

export type ModelFormat = ModelSource["format"];

export interface OpenOptions {
  /** llama2.c only: the tokenizer.bin to use instead of looking next to the model. */
  tokenizerPath?: string;
}

export async function openModelSource(p: string, opts: OpenOptions = {}): Promise<ModelSource> {
  const format = await detectModelFormat(p);
  if (format.format === "hf") return openHfFolder(format.path);
  if (format.format === "gguf") return openGguf(format.path);
  return openLlama2c(format.path, { tokenizerPath: opts.tokenizerPath });
}

/** Which reader a path needs, or a not_found / unknown_format error saying why none fits. */
export async function detectModelFormat(p: string): Promise<{ format: ModelFormat; path: string }> {
  let st;
  try {
    st = await stat(p);
  } catch (e) {
    throw fsError(e, p);
  }
  if (st.isDirectory()) {
    if (await statOrNull(path.join(p, "config.json"))) return { format: "hf", path: p };
    throw new ModelFormatError("unknown_format", `folder has no config.json (${SUPPORTED})`, p);
  }
  const file = await BinaryFile.open(p);
  let head: Buffer;
  try {
    head = await file.readAt(0, Math.min(file.size, LLAMA2C_HEADER_BYTES), "the file header");
  } finally {
    await file.close();
  }
  if (head.subarray(0, 4).toString("latin1") === "GGUF") return { format: "gguf", path: p };
  // A file inside a Hugging Face folder stands for the folder.
  const base = path.basename(p);
  if (
    (base === "config.json" || base.endsWith(".safetensors")) &&
    (await statOrNull(path.join(path.dirname(p), "config.json")))
  ) {
    return { format: "hf", path: path.dirname(p) };
  }
  const h = parseLlama2cHeader(head);
  if (typeof h !== "string") {
    const expected = llama2cExpectedSize(h);
    if (expected === BigInt(file.size)) return { format: "llama2c", path: p };
    if (/\.bin$/i.test(p)) {
      throw new ModelFormatError(
        "unknown_format",
        `not a model this app reads: as a llama2.c checkpoint its header implies ${expected} bytes, but the file is ${file.size} bytes (${SUPPORTED})`,
        p,
      );
    }
  }
  throw new ModelFormatError("unknown_format", `${describeStart(head)} (${SUPPORTED})`, p);
}

function describeStart(head: Buffer): string {
  const magic = head.subarray(0, 4).toString("latin1");
  if (magic === "ggjt" || magic === "tjgg" || magic === "ggml" || magic === "lmgg")
    return "this is a pre-GGUF ggml/ggjt file; convert it to GGUF with a current llama.cpp";
  if (head[0] === 0x50 && head[1] === 0x4b)
    return "this is a zip archive (a PyTorch .pt/.bin checkpoint?); use safetensors or GGUF";
  return "the file is not a recognised model format";
}
