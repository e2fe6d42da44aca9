import { readFile, stat } from "node:fs/promises";
import { fsError, noteAllocation } from "./binary.js";
import { ModelFormatError, type ModelFormatErrorCode } from "./errors.js";

// Bounded JSON: size is checked before reading, nesting depth before parsing (so a hostile file can
// neither exhaust memory nor blow the stack of whoever walks the parsed value later).

export const MAX_JSON_DEPTH = 64;
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

export async function readJsonFile(
  path: string,
  opts: { maxBytes: number; code: ModelFormatErrorCode; what: string },
): Promise<unknown> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelFormatError(opts.code, `${opts.what} is not a regular file`, path);
    size = st.size;
  } catch (e) {
    throw e instanceof ModelFormatError ? e : fsError(e, path);
  }
  if (size > opts.maxBytes)
    throw new ModelFormatError("too_large", `${opts.what} is ${size} bytes (limit ${opts.maxBytes})`, path);
  let bytes: Buffer;
  noteAllocation(size, opts.what);
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fsError(e, path);
  }
  // The file may have grown between stat and read.
  if (bytes.length > opts.maxBytes)
    throw new ModelFormatError("too_large", `${opts.what} is over ${opts.maxBytes} bytes`, path);
  return parseJsonBytes(bytes, { ...opts, file: path });
}

export function parseJsonBytes(
  bytes: Uint8Array,
  opts: { code: ModelFormatErrorCode; what: string; file: string },
): unknown {
  let text: string;
  try {
    text = fatalUtf8.decode(bytes);
  } catch {
    throw new ModelFormatError(opts.code, `${opts.what} is not valid UTF-8`, opts.file);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH)
    throw new ModelFormatError(
      opts.code,
      `${opts.what} nests more than ${MAX_JSON_DEPTH} levels deep`,
      opts.file,
    );
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(
      opts.code,
      `${opts.what} is not valid JSON: ${(e as Error).message}`,
      opts.file,
    );
  }
}

/** Maximum bracket nesting outside strings; stops counting once past the limit. */
function jsonDepth(s: string): number {
  let depth = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) {
      if (c === 92)
        i++; // backslash: skip the escaped char
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
