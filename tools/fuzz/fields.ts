// Where the structural fields of a valid input lie (counts, lengths, dims, offsets, header ints), so
// mutations can hit exactly them. Best-effort scanners over known-good bytes: written independently
// of the readers under test (they only have to work on the valid base inputs).

import type { Field } from "../../native-models/test-support/gguf-writer.js";

export type { Field };

export function ggufFields(b: Uint8Array): Field[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const f: Field[] = [];
  let o = 0;
  const field = (kind: Field["kind"], size: number, label: string) => {
    f.push({ kind, offset: o, size, label });
    o += size;
  };
  const u32 = () => dv.getUint32(o, true);
  const u64 = () => Number(dv.getBigUint64(o, true));
  field("magic", 4, "magic");
  field("version", 4, "version");
  const nt = u64();
  field("count", 8, "tensor count");
  const nkv = u64();
  field("count", 8, "kv count");
  const sizes = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
  const str = (label: string) => {
    const n = u64();
    field("length", 8, label);
    o += n;
  };
  const value = (t: number, label: string, depth: number): void => {
    if (t === 8) return str(label);
    if (t === 9) {
      const et = u32();
      field("valuetype", 4, `${label} element type`);
      const n = u64();
      field("count", 8, `${label} length`);
      // Record only the first few items of long arrays; the rest are skipped over.
      for (let i = 0; i < n; i++) {
        if (et === 8 || et === 9 || i < 4) value(et, `${label}[${i}]`, depth + 1);
        else o += sizes[et];
      }
      return;
    }
    o += sizes[t];
  };
  for (let i = 0; i < nkv; i++) {
    str(`key #${i}`);
    const t = u32();
    field("valuetype", 4, `type of kv #${i}`);
    value(t, `kv #${i}`, 0);
  }
  for (let i = 0; i < nt; i++) {
    str(`tensor name #${i}`);
    const nd = u32();
    field("ndims", 4, `ndims #${i}`);
    for (let d = 0; d < nd; d++) field("dim", 8, `dim ${d} of tensor #${i}`);
    field("tensortype", 4, `type of tensor #${i}`);
    field("offset", 8, `offset of tensor #${i}`);
  }
  return f;
}

export function safetensorsFields(b: Uint8Array): Field[] {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const f: Field[] = [
    { kind: "length", offset: 0, size: 8, label: "header length" },
    { kind: "count", offset: 8, size: n, label: "header json" },
  ];
  const h = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<
    string,
    { data_offsets?: number[] }
  >;
  for (const [name, v] of Object.entries(h)) {
    if (v.data_offsets)
      f.push({
        kind: "data",
        offset: 8 + n + v.data_offsets[0],
        size: v.data_offsets[1] - v.data_offsets[0],
        label: `data of ${name}`,
      });
  }
  return f;
}

export function llama2cFields(b: Uint8Array): Field[] {
  const h = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + 28));
  const names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
  const f: Field[] = names.map((label, i) => ({ kind: "count" as const, offset: i * 4, size: 4, label }));
  const [dim, hid, L, heads, kv, vocab, seq] = h;
  const kvDim = (dim * kv) / heads;
  const sizes = [
    Math.abs(vocab) * dim,
    L * dim,
    L * dim * dim,
    L * dim * kvDim,
    L * dim * kvDim,
    L * dim * dim,
    L * dim,
    L * dim * hid,
    L * dim * hid,
    L * dim * hid,
    dim,
    (seq * dim) / heads / 2,
    (seq * dim) / heads / 2,
  ];
  let o = 28;
  for (const s of sizes) {
    f.push({ kind: "data", offset: o, size: s * 4, label: `array at ${o}` });
    o += s * 4;
  }
  return f;
}

export function tokenizerBinFields(b: Uint8Array): Field[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const f: Field[] = [{ kind: "count", offset: 0, size: 4, label: "max_token_length" }];
  let o = 4;
  for (let i = 0; o + 8 <= b.length; i++) {
    f.push(
      { kind: "data", offset: o, size: 4, label: `score ${i}` },
      { kind: "length", offset: o + 4, size: 4, label: `length ${i}` },
    );
    o += 8 + dv.getInt32(o + 4, true);
  }
  return f;
}

/** Every structural character of a JSON text ({ } [ ] , :), as one-byte fields to cut at. */
export function jsonFields(b: Uint8Array): Field[] {
  const f: Field[] = [];
  let inStr = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 125 || c === 91 || c === 93 || c === 44 || c === 58)
      f.push({ kind: "data", offset: i, size: 1, label: `json ${String.fromCharCode(c)} at ${i}` });
  }
  return f;
}
