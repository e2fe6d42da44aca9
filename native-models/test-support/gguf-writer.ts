// A tiny GGUF writer for tests and the fuzzer. It also records where each structural field lives
// (counts, lengths, dims, types, offsets) so the fuzzer can truncate at and corrupt exactly those.

export type ScalarType =
  "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "u64" | "i64" | "f64" | "str";
export type MetaValue =
  | { t: ScalarType; v: number | bigint | boolean | string }
  | { t: "arr"; of: ScalarType | "arr"; v: MetaValue[] };

const TYPE_ID: Record<ScalarType | "arr", number> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  str: 8,
  arr: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** Plain JS values with a guessed type: string -> str, boolean -> bool, integer -> i32/u64, other number -> f32. */
export type Plain = string | number | boolean | bigint | MetaValue | Plain[];

export function meta(v: Plain): MetaValue {
  if (typeof v === "string") return { t: "str", v };
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "bigint") return { t: "u64", v };
  if (typeof v === "number")
    return Number.isInteger(v)
      ? v >= -(2 ** 31) && v < 2 ** 31
        ? { t: "i32", v }
        : { t: "u64", v: BigInt(v) }
      : { t: "f32", v };
  if (Array.isArray(v)) {
    const items = v.map(meta);
    return { t: "arr", of: items.length ? items[0].t : "i32", v: items };
  }
  return v;
}

export interface WriterTensor {
  name: string;
  /** ggml ne (row length first). */
  ne: number[];
  /** ggml type id. */
  type: number;
  data: Uint8Array;
}

export interface Field {
  kind:
    | "magic"
    | "version"
    | "count"
    | "length"
    | "valuetype"
    | "ndims"
    | "dim"
    | "tensortype"
    | "offset"
    | "data";
  offset: number;
  size: number;
  label: string;
}

export interface WrittenGguf {
  bytes: Uint8Array;
  fields: Field[];
}

export function writeGguf(opts: {
  version?: number;
  alignment?: number;
  metadata: Record<string, Plain>;
  tensors?: WriterTensor[];
}): WrittenGguf {
  const alignment = opts.alignment ?? 32;
  const chunks: Uint8Array[] = [];
  const fields: Field[] = [];
  let pos = 0;
  const put = (b: Uint8Array, f?: Omit<Field, "offset" | "size">) => {
    if (f) fields.push({ ...f, offset: pos, size: b.length });
    chunks.push(b);
    pos += b.length;
  };
  const num = (size: number, write: (dv: DataView) => void) => {
    const b = new Uint8Array(size);
    write(new DataView(b.buffer));
    return b;
  };
  const u32 = (v: number) => num(4, (d) => d.setUint32(0, v, true));
  const u64 = (v: bigint | number) => num(8, (d) => d.setBigUint64(0, BigInt(v), true));
  const str = (s: string, label: string) => {
    const b = new TextEncoder().encode(s);
    put(u64(b.length), { kind: "length", label });
    put(b);
  };
  const scalar = (t: ScalarType, v: MetaValue["v"], label: string) => {
    switch (t) {
      case "str":
        return str(String(v), label);
      case "u8":
        return put(num(1, (d) => d.setUint8(0, Number(v))));
      case "i8":
        return put(num(1, (d) => d.setInt8(0, Number(v))));
      case "bool":
        return put(num(1, (d) => d.setUint8(0, v ? 1 : 0)));
      case "u16":
        return put(num(2, (d) => d.setUint16(0, Number(v), true)));
      case "i16":
        return put(num(2, (d) => d.setInt16(0, Number(v), true)));
      case "u32":
        return put(num(4, (d) => d.setUint32(0, Number(v), true)));
      case "i32":
        return put(num(4, (d) => d.setInt32(0, Number(v), true)));
      case "f32":
        return put(num(4, (d) => d.setFloat32(0, Number(v), true)));
      case "u64":
        return put(num(8, (d) => d.setBigUint64(0, BigInt(v as bigint), true)));
      case "i64":
        return put(num(8, (d) => d.setBigInt64(0, BigInt(v as bigint), true)));
      case "f64":
        return put(num(8, (d) => d.setFloat64(0, Number(v), true)));
    }
  };
  const value = (m: MetaValue, label: string): void => {
    if (m.t === "arr") {
      put(u32(TYPE_ID[m.of]), { kind: "valuetype", label: `${label} element type` });
      put(u64(m.v.length), { kind: "count", label: `${label} length` });
      m.v.forEach((x, i) => value(x, `${label}[${i}]`));
    } else scalar(m.t, m.v, label);
  };

  const tensors = opts.tensors ?? [];
  const entries = Object.entries(opts.metadata);
  put(new TextEncoder().encode("GGUF"), { kind: "magic", label: "magic" });
  put(u32(opts.version ?? 3), { kind: "version", label: "version" });
  put(u64(tensors.length), { kind: "count", label: "tensor count" });
  put(u64(entries.length), { kind: "count", label: "kv count" });
  for (const [k, v] of entries) {
    const m = meta(v);
    str(k, `key ${k}`);
    put(u32(TYPE_ID[m.t]), { kind: "valuetype", label: `type of ${k}` });
    value(m, k);
  }
  let dataOff = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    str(t.name, `tensor name ${t.name}`);
    put(u32(t.ne.length), { kind: "ndims", label: `ndims ${t.name}` });
    t.ne.forEach((d, i) => put(u64(d), { kind: "dim", label: `dim ${i} of ${t.name}` }));
    put(u32(t.type), { kind: "tensortype", label: `type of ${t.name}` });
    put(u64(dataOff), { kind: "offset", label: `offset of ${t.name}` });
    offsets.push(dataOff);
    dataOff = Math.ceil((dataOff + t.data.length) / alignment) * alignment;
  }
  const start = Math.ceil(pos / alignment) * alignment;
  if (tensors.length) put(new Uint8Array(start - pos));
  tensors.forEach((t, i) => {
    const at = start + offsets[i];
    if (pos < at) put(new Uint8Array(at - pos));
    put(t.data, { kind: "data", label: `data of ${t.name}` });
  });
  const bytes = new Uint8Array(pos);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  return { bytes, fields };
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
