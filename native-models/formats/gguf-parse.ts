import { BinaryFile, Cursor, checkedProduct, noteAllocation, safeNumber } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { GGML_TYPES, ggmlTypeName, type GgmlType } from "./gguf-types.js";

// GGUF container parsing (ggml/docs/gguf.md): header, typed key/value metadata, tensor infos, and the
// aligned data section. Structure only; what the keys mean for a model lives in gguf.ts.

export interface GgufTensorInfo {
  name: string;
  /** ggml `ne`: ne[0] is the row length (the numpy shape reversed). */
  ne: number[];
  type: GgmlType;
  /** Absolute byte offset in the file. */
  offset: number;
  byteSize: number;
  nElements: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, unknown>;
  tensors: Map<string, GgufTensorInfo>;
  alignment: number;
  dataOffset: number;
}

// Limits far above anything a real model has, so hostile files fail before big allocations.
const MAX_KEY_BYTES = 65_536;
const MAX_STRING_BYTES = 64 << 20;
// Largest real arrays: ~262k tokens (Gemma 3), ~500k merges; 4M leaves room and bounds parse time.
const MAX_ARRAY_ITEMS = 4_000_000;
// Real files: ~50 keys, ~1,200 tensors (Llama 3.1 405B).
const MAX_KV = 65_536;
const MAX_TENSORS = 65_536;
const MAX_ARRAY_DEPTH = 8;
const MAX_TENSOR_NAME_BYTES = 1024;
const MAX_DIMS = 4;
const MAX_DIM = 2 ** 31;
const DEFAULT_ALIGNMENT = 32;

enum VT {
  U8 = 0,
  I8,
  U16,
  I16,
  U32,
  I32,
  F32,
  BOOL,
  STRING,
  ARRAY,
  U64,
  I64,
  F64,
}
const VALUE_TYPE_NAMES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
];
/** Smallest encoding of one value of each type (string: its u64 length; array: type + count). */
const MIN_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

export async function parseGguf(file: BinaryFile, withTensors: boolean): Promise<GgufFile> {
  const path = file.path;
  const cur = new Cursor(file, 0);
  await cur.need(4, "the GGUF magic");
  const magic = cur.view(4).toString("latin1");
  if (magic !== "GGUF")
    throw new ModelFormatError(
      "bad_magic",
      `not a GGUF file (starts with ${JSON.stringify(magic)}, expected "GGUF")`,
      path,
    );
  const version = await cur.readU32("the GGUF version");
  if (version !== 2 && version !== 3) {
    // A big-endian GGUF reads as a huge version number on this little-endian reader.
    const hint =
      version === 1
        ? " (GGUF v1 is obsolete; re-convert the model with a current llama.cpp)"
        : version > 0xffff
          ? " (a big-endian GGUF?)"
          : "";
    throw new ModelFormatError(
      "unsupported_version",
      `GGUF version ${version} is not supported (supported: 2, 3)${hint}`,
      path,
    );
  }
  const tensorCount = boundedCount(
    await cur.readU64("the tensor count"),
    cur.remaining,
    33,
    MAX_TENSORS,
    "tensor count",
    path,
  );
  const kvCount = boundedCount(
    await cur.readU64("the metadata count"),
    cur.remaining,
    13,
    MAX_KV,
    "metadata key count",
    path,
  );

  const metadata = new Map<string, unknown>();
  for (let i = 0; i < kvCount; i++) {
    const key = await cur.readString(`metadata key #${i}`, MAX_KEY_BYTES);
    if (metadata.has(key))
      throw new ModelFormatError("bad_metadata", `metadata key "${key}" appears twice`, path);
    const type = await cur.readU32(`the type of metadata "${key}"`);
    metadata.set(key, await readValue(cur, type, 0, `metadata "${key}"`));
  }

  let alignment = DEFAULT_ALIGNMENT;
  const a = metadata.get("general.alignment");
  if (a !== undefined) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < 1 || a > 1 << 24 || (a & (a - 1)) !== 0) {
      throw new ModelFormatError(
        "bad_metadata",
        `general.alignment is ${String(a)}; it must be a power of two`,
        path,
      );
    }
    alignment = a;
  }

  const tensors = new Map<string, GgufTensorInfo>();
  if (!withTensors) return { version, metadata, tensors, alignment, dataOffset: cur.pos };

  const rel: { info: GgufTensorInfo; rel: bigint }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await cur.readString(`tensor name #${i}`, MAX_TENSOR_NAME_BYTES);
    if (name.length === 0) throw new ModelFormatError("bad_tensor", `tensor #${i} has an empty name`, path);
    if (tensors.has(name)) throw new ModelFormatError("bad_tensor", `tensor "${name}" appears twice`, path);
    const nDims = await cur.readU32(`the dimension count of tensor "${name}"`);
    if (nDims < 1 || nDims > MAX_DIMS)
      throw new ModelFormatError(
        "bad_tensor",
        `tensor "${name}" has ${nDims} dimensions (supported: 1 to ${MAX_DIMS})`,
        path,
      );
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const v = await cur.readU64(`dimension ${d} of tensor "${name}"`);
      if (v === 0n || v > BigInt(MAX_DIM))
        throw new ModelFormatError(
          "bad_tensor",
          `tensor "${name}" has dimension ${d} = ${v} (must be 1 to 2^31)`,
          path,
        );
      ne.push(Number(v));
    }
    const typeId = await cur.readU32(`the type of tensor "${name}"`);
    const type = GGML_TYPES.get(typeId);
    if (!type)
      throw new ModelFormatError(
        "unsupported_type",
        `tensor "${name}" has type ${ggmlTypeName(typeId)}, which this reader does not know`,
        path,
      );
    if (ne[0] % type.blockSize !== 0) {
      throw new ModelFormatError(
        "bad_tensor",
        `tensor "${name}" (${type.name}) has rows of ${ne[0]} values, not a multiple of its block size ${type.blockSize}`,
        path,
      );
    }
    // Sizes are only bounded by 2^53 here; whether the data fits the file is checked below, where a
    // truncated file can be told apart from an offset that points nowhere.
    const nElements = checkedProduct(ne, Number.MAX_SAFE_INTEGER, `tensor "${name}"`, path);
    const byteSize = safeNumber(
      (BigInt(nElements) / BigInt(type.blockSize)) * BigInt(type.typeSize),
      `byte size of tensor "${name}"`,
      path,
    );
    const offset = await cur.readU64(`the data offset of tensor "${name}"`);
    const info: GgufTensorInfo = { name, ne, type, offset: 0, byteSize, nElements };
    tensors.set(name, info);
    rel.push({ info, rel: offset });
  }

  const dataOffset = Math.ceil(cur.pos / alignment) * alignment;
  const dataBytes = file.size - dataOffset;
  for (const { info, rel: off } of rel) {
    if (off % BigInt(alignment) !== 0n) {
      throw new ModelFormatError(
        "bad_tensor",
        `tensor "${info.name}" starts at data offset ${off}, not a multiple of the alignment ${alignment}`,
        path,
      );
    }
    if (off + BigInt(info.byteSize) > BigInt(dataBytes)) {
      throw new ModelFormatError(
        off < BigInt(dataBytes) ? "truncated" : "out_of_bounds",
        `tensor "${info.name}" (${info.type.name}, ${info.byteSize} bytes at data offset ${off}) extends past the end of the file`,
        path,
      );
    }
    info.offset = dataOffset + safeNumber(off, `offset of tensor "${info.name}"`, path);
  }
  const sorted = [...tensors.values()].sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (prev.offset + prev.byteSize > sorted[i].offset) {
      throw new ModelFormatError(
        "bad_tensor",
        `tensors "${prev.name}" and "${sorted[i].name}" overlap in the file`,
        path,
      );
    }
  }
  return { version, metadata, tensors, alignment, dataOffset };
}

function boundedCount(
  v: bigint,
  remaining: number,
  minBytesEach: number,
  max: number,
  what: string,
  path: string,
): number {
  if (v > BigInt(Math.floor(remaining / minBytesEach))) {
    throw new ModelFormatError(
      "truncated",
      `${what} is ${v}, more than the remaining ${remaining} bytes of the file can hold`,
      path,
    );
  }
  if (v > BigInt(max)) throw new ModelFormatError("too_large", `${what} is ${v} (limit ${max})`, path);
  return Number(v);
}

async function readValue(cur: Cursor, type: number, depth: number, what: string): Promise<unknown> {
  const path = cur.file.path;
  if (type === VT.STRING) return cur.readString(what, MAX_STRING_BYTES);
  if (type === VT.ARRAY) return readArray(cur, depth + 1, what);
  const size = MIN_SIZE[type];
  if (size === undefined)
    throw new ModelFormatError("bad_metadata", `${what} has unknown value type ${type}`, path);
  await cur.need(size, what);
  return readScalar(cur, type);
}

function readScalar(cur: Cursor, type: number): unknown {
  switch (type) {
    case VT.U8:
      return cur.u8();
    case VT.I8:
      return cur.i8();
    case VT.U16:
      return cur.u16();
    case VT.I16:
      return cur.i16();
    case VT.U32:
      return cur.u32();
    case VT.I32:
      return cur.i32();
    case VT.F32:
      return cur.f32();
    case VT.BOOL:
      return cur.u8() !== 0;
    case VT.U64:
      return bigToJs(cur.u64());
    case VT.I64:
      return bigToJs(cur.i64());
    default:
      return cur.f64();
  }
}

function bigToJs(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

async function readArray(cur: Cursor, depth: number, what: string): Promise<unknown[]> {
  const path = cur.file.path;
  if (depth > MAX_ARRAY_DEPTH)
    throw new ModelFormatError(
      "bad_metadata",
      `${what} nests arrays more than ${MAX_ARRAY_DEPTH} deep`,
      path,
    );
  const elemType = await cur.readU32(`${what} element type`);
  const size = MIN_SIZE[elemType];
  if (size === undefined)
    throw new ModelFormatError("bad_metadata", `${what} has unknown element type ${elemType}`, path);
  const count = await cur.readU64(`${what} length`);
  if (count > BigInt(Math.floor(cur.remaining / size))) {
    throw new ModelFormatError(
      "truncated",
      `${what} claims ${count} ${VALUE_TYPE_NAMES[elemType]} items but only ${cur.remaining} bytes remain in the file`,
      path,
    );
  }
  if (count > BigInt(MAX_ARRAY_ITEMS))
    throw new ModelFormatError("too_large", `${what} has ${count} items (limit ${MAX_ARRAY_ITEMS})`, path);
  const n = Number(count);
  noteAllocation(n * 8, what);
  const out: unknown[] = new Array(n);
  if (elemType === VT.STRING) {
    // Token lists hold 100k+ strings: take each from the read-ahead window without an await when it is there.
    for (let i = 0; i < n; i++)
      out[i] =
        cur.stringIfBuffered(MAX_STRING_BYTES) ?? (await cur.readString(`${what}[${i}]`, MAX_STRING_BYTES));
    return out;
  }
  if (elemType === VT.ARRAY) {
    for (let i = 0; i < n; i++) out[i] = await readArray(cur, depth + 1, `${what}[${i}]`);
    return out;
  }
  // Fixed-size items: pull them through the window in chunks rather than one await per item.
  const perChunk = Math.max(1, Math.floor((1 << 20) / size));
  for (let i = 0; i < n;) {
    const k = Math.min(perChunk, n - i);
    await cur.need(k * size, what);
    for (const end = i + k; i < end; i++) out[i] = readScalar(cur, elemType);
  }
  return out;
}
