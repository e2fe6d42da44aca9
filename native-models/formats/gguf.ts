import { BinaryFile } from "./binary.js";
import { parseGguf, type GgufTensorInfo } from "./gguf-parse.js";

// Public GGUF entry points. Metadata alone (for tokenizers, model cards, vocabulary-only files) and,
// in gguf-model.ts, a full ModelSource.

/**
 * Every metadata key of a GGUF file, typed as read: strings -> string, arrays -> JS arrays (nested
 * arrays too), 8/16/32-bit ints and floats -> number, 64-bit ints -> number when safe else bigint,
 * bool -> boolean. Tensor infos are not read, so vocabulary-only files work.
 * Throws ModelFormatError (not_found, bad_magic, unsupported_version, truncated, bad_metadata, too_large).
 */
export async function readGgufMetadata(path: string): Promise<Map<string, unknown>> {
  const file = await BinaryFile.open(path);
  try {
    return (await parseGguf(file, false)).metadata;
  } finally {
    await file.close();
  }
}

/** The tensor infos of a GGUF file (names, types, sizes), without reading any tensor data. */
export async function readGgufTensors(path: string): Promise<Map<string, GgufTensorInfo>> {
  const file = await BinaryFile.open(path);
  try {
    return (await parseGguf(file, true)).tensors;
  } finally {
    await file.close();
  }
}

export { openGguf } from "./gguf-model.js";
