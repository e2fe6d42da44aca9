import { BinaryFile, checkedProduct } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { isObject, parseJsonBytes } from "./json-file.js";

// safetensors (huggingface/safetensors): u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data; offsets are
// relative to the end of the header.

export const MAX_HEADER_BYTES = 100 << 20;
const MAX_DIMS = 8;

/** Bytes per element of each safetensors dtype. Only F32/F16/BF16 are readable; the rest are known for layout checks. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
export const READABLE_DTYPES = ["F32", "F16", "BF16"];

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute offset in the file. */
  offset: number;
  byteSize: number;
  nElements: number;
  file: BinaryFile;
}

export async function parseSafetensors(
  file: BinaryFile,
): Promise<{ tensors: Map<string, SafetensorsTensor>; metadata: Record<string, unknown> }> {
  const p = file.path;
  if (file.size < 8)
    throw new ModelFormatError(
      "truncated",
      `safetensors file is ${file.size} bytes, too short for its 8-byte header length`,
      p,
    );
  const n = (await file.readAt(0, 8, "the safetensors header length")).readBigUInt64LE(0);
  if (n > BigInt(file.size - 8))
    throw new ModelFormatError(
      "truncated",
      `safetensors header claims ${n} bytes but the file has ${file.size - 8} after the length`,
      p,
    );
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new ModelFormatError(
      "too_large",
      `safetensors header is ${n} bytes (limit ${MAX_HEADER_BYTES})`,
      p,
    );
  if (n < 2n)
    throw new ModelFormatError("bad_metadata", `safetensors header is ${n} bytes, too short for JSON`, p);
  const headerLen = Number(n);
  const header = parseJsonBytes(await file.readAt(8, headerLen, "the safetensors header"), {
    code: "bad_metadata",
    what: "the safetensors header",
    file: p,
  });
  if (!isObject(header))
    throw new ModelFormatError("bad_metadata", "the safetensors header is not a JSON object", p);

  const dataStart = 8 + headerLen;
  const dataSize = file.size - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(v)) throw new ModelFormatError("bad_metadata", "__metadata__ is not an object", p);
      metadata = v;
      continue;
    }
    const bad = (why: string) => new ModelFormatError("bad_tensor", `tensor "${name}": ${why}`, p);
    if (!isObject(v)) throw bad("its entry is not an object");
    const { dtype, shape, data_offsets: offs } = v;
    if (typeof dtype !== "string") throw bad("dtype is missing");
    if (
      !Array.isArray(shape) ||
      shape.length > MAX_DIMS ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0 && d <= 2 ** 31)
    ) {
      throw bad(
        `shape ${JSON.stringify(shape)?.slice(0, 80)} is not a list of up to ${MAX_DIMS} sizes from 0 to 2^31`,
      );
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad(`data_offsets ${JSON.stringify(offs)?.slice(0, 80)} is not [begin, end]`);
    }
    const [begin, end] = offs as number[];
    if (begin > end || end > dataSize) {
      const hint = begin <= end ? " (is the file truncated?)" : "";
      throw new ModelFormatError(
        "out_of_bounds",
        `tensor "${name}": data_offsets [${begin}, ${end}] fall outside the ${dataSize} data bytes${hint}`,
        p,
      );
    }
    const nElements = checkedProduct(shape as number[], dataSize, `tensor "${name}"`, p);
    const width = DTYPE_BYTES[dtype];
    // Unknown dtypes are allowed in tensors the model does not use; their size cannot be checked.
    if (width !== undefined && nElements * width !== end - begin) {
      throw bad(
        `${dtype} shape [${shape.join(", ")}] needs ${nElements * width} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.set(name, {
      name,
      dtype,
      shape: shape as number[],
      offset: dataStart + begin,
      byteSize: end - begin,
      nElements,
      file,
    });
  }
  const sorted = [...tensors.values()].filter((t) => t.byteSize > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1].offset + sorted[i - 1].byteSize > sorted[i].offset) {
      throw new ModelFormatError(
        "bad_tensor",
        `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the file`,
        p,
      );
    }
  }
  return { tensors, metadata };
}
