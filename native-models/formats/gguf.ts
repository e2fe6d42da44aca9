import { BinaryFile } from "./binary.js";
import { parseGguf } from "./gguf-parse.js";

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

export { openGguf } from "./gguf-model.js";
