// Deterministic mutations of a base input. Byte-level ones aim at the structural fields the scanners
// found (truncation at every boundary, bit flips, special values in counts/lengths/dims/offsets,
// fields copied from siblings to make overlaps); JSON-level ones swap values for hostile ones, nest
// deeply or grow enormous; "sparse" ones make a huge file without writing its bytes.

import type { Base } from "./bases.js";
import type { Field } from "./fields.js";

export interface Mutated {
  bytes: Uint8Array;
  /** When set, the file is extended (sparsely, with zeros) to this size after writing `bytes`. */
  sparseSize?: number;
  description: string;
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const SPECIAL_64 = [
  0n,
  1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 62n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n - 8n,
];
const SPECIAL_32 = [0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 4, 5, 9, 13, 31, 64, 2 ** 24];

function flipBits(b: Uint8Array, r: Rand, from: number, to: number, n: number): string {
  const at: number[] = [];
  for (let i = 0; i < n && to > from; i++) {
    const o = from + int(r, to - from);
    b[o] ^= 1 << int(r, 8);
    at.push(o);
  }
  return at.join(",");
}

function writeSpecial(b: Uint8Array, f: Field, r: Rand, fileLen: number): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.size === 8) {
    const v = r() < 0.25 ? BigInt(fileLen + int(r, 64) - 32) & (2n ** 64n - 1n) : pick(r, SPECIAL_64);
    dv.setBigUint64(f.offset, v, true);
    return String(v);
  }
  const v = r() < 0.25 ? (fileLen + int(r, 64) - 32) >>> 0 : pick(r, SPECIAL_32);
  dv.setUint32(f.offset, v, true);
  return String(v);
}

function byteMutation(base: Base, src: Uint8Array, r: Rand): Mutated {
  const b = src.slice();
  const fields = base.fields.filter((f) => f.offset + f.size <= b.length);
  const field = fields.length ? pick(r, fields) : undefined;
  const small = fields.filter((f) => f.size === 4 || f.size === 8);
  const data = fields.filter((f) => f.kind === "data" && f.size >= 4);
  const op = pick(r, [
    "truncate-field",
    "truncate-field",
    "truncate-random",
    "flip-field",
    "special-field",
    "special-field",
    "copy-field",
    "flip-header",
    "flip-any",
    "nonfinite",
    "append",
    "sparse-huge",
    "zero-region",
    "splice",
  ] as const);
  switch (op) {
    case "truncate-field": {
      if (!field) break;
      const cut = Math.min(
        b.length,
        field.offset + pick(r, [0, 1, Math.max(0, field.size - 1), field.size, int(r, field.size + 1)]),
      );
      return { bytes: b.subarray(0, cut), description: `truncate at ${cut} (${field.label})` };
    }
    case "flip-field":
      if (!field) break;
      return {
        bytes: b,
        description: `flip bits in ${field.label} at ${flipBits(b, r, field.offset, field.offset + Math.min(field.size, 64), 1 + int(r, 3))}`,
      };
    case "special-field": {
      if (!small.length) break;
      const f = pick(r, small);
      return { bytes: b, description: `${f.label} := ${writeSpecial(b, f, r, b.length)}` };
    }
    case "copy-field": {
      if (!small.length) break;
      const f = pick(r, small);
      const sib = small.filter((x) => x.kind === f.kind && x.size === f.size && x !== f);
      if (!sib.length) break;
      const s = pick(r, sib);
      b.set(src.subarray(s.offset, s.offset + s.size), f.offset);
      return { bytes: b, description: `${f.label} := ${s.label}` };
    }
    case "flip-header":
      return {
        bytes: b,
        description: `flip header bits at ${flipBits(b, r, 0, Math.min(b.length, 4096), 1 + int(r, 8))}`,
      };
    case "flip-any":
      return { bytes: b, description: `flip bits at ${flipBits(b, r, 0, b.length, 1 + int(r, 4))}` };
    case "nonfinite": {
      if (!data.length) break;
      const f = pick(r, data);
      const o = f.offset + 4 * int(r, Math.floor(f.size / 4));
      const dv = new DataView(b.buffer, b.byteOffset);
      const kind = int(r, 4);
      if (kind === 0) dv.setUint32(o, 0x7fc00000, true);
      else if (kind === 1) dv.setUint32(o, 0xff800000, true);
      else dv.setUint16(o, kind === 2 ? 0x7c00 : 0x7e00, true);
      return {
        bytes: b,
        description: `non-finite (${["f32 NaN", "f32 -Inf", "f16 Inf", "f16 NaN"][kind]}) at ${o} in ${f.label}`,
      };
    }
    case "append": {
      const extra = Uint8Array.from({ length: 1 + int(r, 100) }, () => int(r, 256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b);
      out.set(extra, b.length);
      return { bytes: out, description: `append ${extra.length} bytes` };
    }
    case "sparse-huge": {
      const size = b.length + 2 ** 31 + int(r, 2 ** 20);
      return { bytes: b, sparseSize: size, description: `extend sparsely to ${size} bytes` };
    }
    case "zero-region": {
      const o = int(r, b.length);
      const n = 1 + int(r, 64);
      b.fill(0, o, o + n);
      return { bytes: b, description: `zero ${n} bytes at ${o}` };
    }
    case "splice": {
      const from = int(r, b.length);
      const n = 1 + int(r, 256);
      const at = int(r, b.length);
      const piece = b.slice(from, from + n);
      const out = new Uint8Array(b.length + piece.length);
      out.set(b.subarray(0, at));
      out.set(piece, at);
      out.set(b.subarray(at), at + piece.length);
      return { bytes: out, description: `insert ${piece.length} bytes from ${from} at ${at}` };
    }
  }
  const cut = int(r, b.length);
  return { bytes: b.subarray(0, cut), description: `truncate at ${cut}` };
}

const HOSTILE: readonly unknown[] = [
  null,
  true,
  false,
  -1,
  0,
  1,
  3,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  1e308,
  -1e308,
  5e-324,
  "",
  "x",
  "F64",
  "I8",
  "NaN",
  "x".repeat(5000),
  [],
  [-1],
  [0],
  [0, 2 ** 60],
  [2 ** 31, 2 ** 31],
  [1, 2, 3, 4, 5, 6, 7, 8, 9],
  {},
  { a: 1 },
  { type: "BPE" },
];

type Json = unknown;
function paths(v: Json, limit = 5000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const stack: [Json, (string | number)[]][] = [[v, []]];
  while (stack.length && out.length < limit) {
    const [x, p] = stack.pop()!;
    out.push(p);
    if (Array.isArray(x)) x.forEach((c, i) => stack.push([c, [...p, i]]));
    else if (x && typeof x === "object") for (const [k, c] of Object.entries(x)) stack.push([c, [...p, k]]);
  }
  return out;
}
function setAt(root: Json, p: (string | number)[], v: unknown, del: boolean): Json {
  if (p.length === 0) return v;
  let x = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) x = x[k] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (del && !Array.isArray(x)) delete x[last];
  else x[last] = v;
  return root;
}

const DEEP = "__DEEP__";
function jsonMutation(src: Uint8Array, r: Rand): { text: string; description: string } {
  let v: Json;
  try {
    v = JSON.parse(new TextDecoder().decode(src));
  } catch {
    return { text: new TextDecoder().decode(src), description: "unparsable json kept" };
  }
  const p = pick(r, paths(v));
  const at = p.length ? p : ["x"];
  const where = JSON.stringify(at).slice(0, 120);
  const op = pick(r, ["value", "value", "value", "delete", "deep", "big", "add"] as const);
  if (op === "deep") {
    const depth = pick(r, [65, 1000, 100000]);
    const text = JSON.stringify(setAt(v, at, DEEP, false)).replace(
      `"${DEEP}"`,
      "[".repeat(depth) + "]".repeat(depth),
    );
    return { text, description: `nest ${depth} deep at ${where}` };
  }
  if (op === "big") {
    const arr = r() < 0.5;
    const big = arr ? Array.from({ length: 200_000 }, (_, i) => i) : "y".repeat(2_000_000);
    return {
      text: JSON.stringify(setAt(v, at, big, false)),
      description: `${arr ? "200k-item array" : "2 MB string"} at ${where}`,
    };
  }
  if (op === "add" && v && typeof v === "object" && !Array.isArray(v)) {
    const key = pick(r, [
      "__proto__",
      "constructor",
      "weight_map",
      "architectures",
      "rope_scaling",
      "__metadata__",
      "zz",
    ]);
    const val = pick(r, HOSTILE);
    // defineProperty so "__proto__" becomes an own key in the output, as JSON.parse would make it.
    Object.defineProperty(v, key, { value: val, enumerable: true, configurable: true, writable: true });
    return { text: JSON.stringify(v), description: `add ${key}=${JSON.stringify(val)?.slice(0, 40)}` };
  }
  const val = structuredClone(pick(r, HOSTILE));
  return {
    text: JSON.stringify(setAt(v, p, val, op === "delete")),
    description: `${op === "delete" ? "delete" : `set ${JSON.stringify(val)?.slice(0, 40)} at`} ${where}`,
  };
}

export function mutate(base: Base, r: Rand): Mutated {
  const src = base.files[base.target];
  if (base.kind === "json") {
    const roll = r();
    // Byte-level damage to the JSON text (the fields are its structural characters).
    if (roll < 0.2) return byteMutation(base, src, r);
    if (roll < 0.25)
      return {
        bytes: src,
        sparseSize: (100 << 20) + 1 + int(r, 1000),
        description: "sparse file over the JSON size limit",
      };
    const m = jsonMutation(src, r);
    return { bytes: new TextEncoder().encode(m.text), description: `json: ${m.description}` };
  }
  if (base.kind === "safetensors" && r() < 0.4) {
    // Rewrite the JSON header and repack it, so mutations reach the semantic checks.
    const dv = new DataView(src.buffer, src.byteOffset);
    const n = Number(dv.getBigUint64(0, true));
    const m = jsonMutation(src.subarray(8, 8 + n), r);
    const hb = new TextEncoder().encode(m.text);
    const data = src.subarray(8 + n);
    const out = new Uint8Array(8 + hb.length + data.length);
    const skew = r() < 0.1 ? int(r, 16) - 8 : 0;
    new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, hb.length + skew)), true);
    out.set(hb, 8);
    out.set(data, 8 + hb.length);
    return { bytes: out, description: `header json: ${m.description}${skew ? `, length skew ${skew}` : ""}` };
  }
  return byteMutation(base, src, r);
}
