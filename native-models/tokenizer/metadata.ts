import { ModelFormatError } from "../formats/errors.js";

// Typed, forgiving access to GGUF metadata as the reader returns it (numbers may be bigint, arrays
// may be plain or typed arrays). A present key with the wrong type is an error, never a silent default.

export type Metadata = ReadonlyMap<string, unknown>;

function wrongType(key: string, want: string, value: unknown): never {
  throw new ModelFormatError("bad_tokenizer", `GGUF key ${key} should be ${want}, found ${describe(value)}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

export function getString(meta: Metadata, key: string): string | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : wrongType(key, "a string", v);
}

export function getNumber(meta: Metadata, key: string): number | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return wrongType(key, "a number", v);
}

export function getBool(meta: Metadata, key: string): boolean | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  if (typeof v === "boolean") return v;
  // Some converters write flags as integers.
  if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0;
  return wrongType(key, "a boolean", v);
}

function asArray(key: string, v: unknown): ArrayLike<unknown> {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as unknown as ArrayLike<unknown>;
  return wrongType(key, "an array", v);
}

export function getStringArray(meta: Metadata, key: string): string[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  const arr = asArray(key, v);
  const out = new Array<string>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const s = arr[i];
    if (typeof s !== "string") wrongType(`${key}[${i}]`, "a string", s);
    out[i] = s;
  }
  return out;
}

export function getNumberArray(meta: Metadata, key: string): number[] | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  const arr = asArray(key, v);
  const out = new Array<number>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const n = arr[i];
    if (typeof n === "number") out[i] = n;
    else if (typeof n === "bigint") out[i] = Number(n);
    else wrongType(`${key}[${i}]`, "a number", n);
  }
  return out;
}

/** A token id key, checked against the vocabulary size; out-of-range ids are ignored as llama.cpp does. */
export function getTokenId(meta: Metadata, key: string, vocabSize: number): number | undefined {
  const id = getNumber(meta, key);
  if (id === undefined || !Number.isInteger(id) || id < 0 || id >= vocabSize) return undefined;
  return id;
}
