// Writes a "Q4_K_M"-typed copy of a GGUF file, the quantization most people download, for
// benchmarks and quality checks where no such file can be fetched:
//
//   npx tsx tools/kquant-gguf.ts --in model.gguf --out model-q4_k_m.gguf [--type q4_k_m|q5_k_m|q4_1|q5_1]
//
// Like llama.cpp's Q4_K_M recipe: 2-D weights in Q4_K, the output head in Q6_K, and attn_v and
// ffn_down in Q6_K on the layers llama.cpp gives more bits (the first and last eighth, and every
// third in between); 1-D tensors (norms) stay as they are. `--type q5_k_m`: the same with Q5_K for
// Q4_K (llama.cpp's Q5_K_M). `--type q4_1` or `q5_1`: every 2-D
// weight in that type, the output head in Q6_K where its rows are whole superblocks (llama.cpp's
// rule for these older types). The block quantizers are simple min/max ones (Q4_1 and Q5_1 as
// ggml's reference quantizer), not llama.cpp's error-minimising search: the files are valid files
// of their type with somewhat larger rounding error. Metadata is copied byte for byte, with
// general.file_type set to the recipe's (15 MOSTLY_Q4_K_M, 17 MOSTLY_Q5_K_M, 3 MOSTLY_Q4_1,
// 9 MOSTLY_Q5_1). Not
// product code.
import { open, rename } from "node:fs/promises";
import { parseArgs } from "node:util";
import { BinaryFile } from "../native-models/formats/binary.js";
import { parseGguf } from "../native-models/formats/gguf-parse.js";
import { dequantizeInto, F16_TABLE } from "../native-models/formats/gguf-dequant.js";
import { toHalf } from "../native-models/convert/float16.js";

export const QK = 256;

interface BlockType {
  id: number;
  name: string;
  /** Values per block and bytes per block. */
  block: number;
  bytes: number;
  quantize: (x: Float32Array, out: Uint8Array) => void;
}

/** One Q4_K block (256 values): 8 sub-blocks of 32 with 6-bit scales and mins. */
export function quantizeQ4K(x: Float32Array, out: Uint8Array): void {
  quantizeKWithMins(15, x, out);
}

/** One Q5_K block (256 values): Q4_K's scales and mins, 5-bit values (the fifth bits in qh). */
export function quantizeQ5K(x: Float32Array, out: Uint8Array): void {
  quantizeKWithMins(31, x, out);
}

function quantizeKWithMins(levels: 15 | 31, x: Float32Array, out: Uint8Array): void {
  const scale = new Float64Array(8);
  const min = new Float64Array(8);
  for (let j = 0; j < 8; j++) {
    let lo = 0;
    let hi = 0;
    for (let l = 0; l < 32; l++) {
      lo = Math.min(lo, x[32 * j + l]);
      hi = Math.max(hi, x[32 * j + l]);
    }
    scale[j] = (hi - lo) / levels;
    min[j] = -lo;
  }
  const dh = toHalf(Math.max(...scale) / 63);
  const mh = toHalf(Math.max(...min) / 63);
  const d = F16_TABLE[dh];
  const dmin = F16_TABLE[mh];
  const sc = Array.from(scale, (s) => (d > 0 ? Math.min(63, Math.round(s / d)) : 0));
  const mq = Array.from(min, (m) => (dmin > 0 ? Math.min(63, Math.round(m / dmin)) : 0));
  out.fill(0);
  out[0] = dh & 0xff;
  out[1] = dh >> 8;
  out[2] = mh & 0xff;
  out[3] = mh >> 8;
  // The 12 scale bytes, the inverse of ggml's get_scale_min_k4.
  const s = out.subarray(4, 16);
  for (let j = 0; j < 4; j++) {
    s[j] = sc[j] | ((sc[j + 4] >> 4) << 6);
    s[j + 4] = mq[j] | ((mq[j + 4] >> 4) << 6);
    s[j + 8] = (sc[j + 4] & 0xf) | ((mq[j + 4] & 0xf) << 4);
  }
  // Values 64p..64p+31 in the low nibbles of 32 bytes, 64p+32..64p+63 in the high ones; Q5_K's
  // fifth bits first, bit j of byte l for value 32j + l.
  const qs = levels === 15 ? 16 : 48;
  for (let j = 0; j < 8; j++) {
    const ds = d * sc[j];
    const dm = dmin * mq[j];
    for (let l = 0; l < 32; l++) {
      const q = ds > 0 ? Math.max(0, Math.min(levels, Math.round((x[32 * j + l] + dm) / ds))) : 0;
      out[qs + 32 * (j >> 1) + l] |= j & 1 ? (q & 15) << 4 : q & 15;
      if (q & 16) out[16 + l] |= 1 << j;
    }
  }
}

/** One Q6_K block (256 values): 16 sub-blocks of 16 with int8 scales, 6-bit values. */
export function quantizeQ6K(x: Float32Array, out: Uint8Array): void {
  // Value v = 128h + 32k + l (half h, quarter k, l < 32) uses scale 8h + (l >> 4) + 2k.
  const sub = (v: number) => 8 * (v >> 7) + ((v & 31) >> 4) + 2 * ((v >> 5) & 3);
  const amax = new Float64Array(16);
  for (let v = 0; v < QK; v++) amax[sub(v)] = Math.max(amax[sub(v)], Math.abs(x[v]));
  const dh = toHalf(Math.max(...amax) / 31 / 127);
  const d = F16_TABLE[dh];
  const sc = Array.from(amax, (a) => (d > 0 ? Math.min(127, Math.round(a / 31 / d)) : 0));
  out.fill(0);
  const q = new Uint8Array(QK);
  for (let v = 0; v < QK; v++) {
    const step = d * sc[sub(v)];
    q[v] = (step > 0 ? Math.max(-32, Math.min(31, Math.round(x[v] / step))) : 0) + 32;
  }
  for (let h = 0; h < 2; h++) {
    const ql = out.subarray(64 * h, 64 * h + 64);
    const qh = out.subarray(128 + 32 * h, 128 + 32 * h + 32);
    for (let l = 0; l < 32; l++) {
      const [q1, q2, q3, q4] = [0, 1, 2, 3].map((k) => q[128 * h + 32 * k + l]);
      ql[l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
      ql[l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
      qh[l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
  for (let i = 0; i < 16; i++) out[192 + i] = sc[i] & 0xff;
  out[208] = dh & 0xff;
  out[209] = dh >> 8;
}

/**
 * One Q4_1 (levels 15) or Q5_1 (31) block of 32 as ggml's quantize_row_q4_1_ref writes it: d the
 * range over the levels, m the minimum, q = (x - min)/d rounded half up.
 */
export function quantizeMinBlock(levels: 15 | 31, x: Float32Array, out: Uint8Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const d = Math.fround((hi - lo) / levels);
  const id = d ? Math.fround(1 / d) : 0;
  const dh = toHalf(d);
  const mh = toHalf(lo);
  out.fill(0);
  out[0] = dh & 0xff;
  out[1] = dh >> 8;
  out[2] = mh & 0xff;
  out[3] = mh >> 8;
  const q = Array.from(x, (v) => Math.min(levels, Math.floor(Math.fround((v - lo) * id) + 0.5)));
  const at = levels === 15 ? 4 : 8; // Q5_1: 4 bytes of fifth bits first
  for (let j = 0; j < 16; j++) out[at + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
  if (levels === 31) for (let j = 0; j < 32; j++) if (q[j] & 16) out[4 + (j >> 3)] |= 1 << (j & 7);
}

const Q4_K: BlockType = { id: 12, name: "Q4_K", block: QK, bytes: 144, quantize: quantizeQ4K };
const Q5_K: BlockType = { id: 13, name: "Q5_K", block: QK, bytes: 176, quantize: quantizeQ5K };
const Q6_K: BlockType = { id: 14, name: "Q6_K", block: QK, bytes: 210, quantize: quantizeQ6K };
/** Q4_1 (levels 15) or Q5_1 (31): blocks of 32. */
const minType = (id: number, name: string, bytes: number, levels: 15 | 31): BlockType => ({
  id,
  name,
  block: 32,
  bytes,
  quantize: (x, o) => quantizeMinBlock(levels, x, o),
});
const Q4_1 = minType(3, "Q4_1", 20, 15);
const Q5_1 = minType(7, "Q5_1", 24, 31);

/** Each recipe's general.file_type (llama_ftype) and the type of each 2-D tensor. */
const RECIPES = {
  q4_k_m: {
    fileType: 15,
    type: (name: string, ne: number[], layers: number) => kQuantType(Q4_K, name, ne, layers),
  },
  q5_k_m: {
    fileType: 17,
    type: (name: string, ne: number[], layers: number) => kQuantType(Q5_K, name, ne, layers),
  },
  q4_1: { fileType: 3, type: (name: string, ne: number[]) => oldType(Q4_1, name, ne) },
  q5_1: { fileType: 9, type: (name: string, ne: number[]) => oldType(Q5_1, name, ne) },
} as const;

/** llama.cpp's use_more_bits: the layers whose attn_v and ffn_down get Q6_K in Q4_K_M. */
function moreBits(layer: number, layers: number): boolean {
  return layer < layers / 8 || layer >= (7 * layers) / 8 || (layer - Math.floor(layers / 8)) % 3 === 2;
}

/** Q4_K_M's or Q5_K_M's rule: `type` but for the output head and the layers that get more bits. */
function kQuantType(type: BlockType, name: string, ne: number[], layers: number): BlockType | null {
  if (ne.length !== 2 || ne[0] % QK !== 0) return null;
  if (name === "output.weight") return Q6_K;
  const m = name.match(/^blk\.(\d+)\.(attn_v|ffn_down)\.weight$/);
  return m && moreBits(Number(m[1]), layers) ? Q6_K : type;
}

function oldType(type: BlockType, name: string, ne: number[]): BlockType | null {
  if (ne.length !== 2 || ne[0] % 32 !== 0) return null;
  return name === "output.weight" && ne[0] % QK === 0 ? Q6_K : type;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { in: { type: "string" }, out: { type: "string" }, type: { type: "string", default: "q4_k_m" } },
  });
  const recipe = RECIPES[values.type as keyof typeof RECIPES];
  if (!values.in || !values.out || !recipe)
    throw new Error(
      "usage: kquant-gguf.ts --in model.gguf --out model-q4_k_m.gguf [--type q4_k_m|q4_1|q5_1]",
    );
  const src = await BinaryFile.open(values.in);
  try {
    const kvEnd = (await parseGguf(src, false)).dataOffset;
    const gguf = await parseGguf(src, true);
    const layers = Number(
      gguf.metadata.get(`${String(gguf.metadata.get("general.architecture"))}.block_count`),
    );
    const head = await src.readAt(0, kvEnd, "the GGUF header and metadata");
    patchFileType(head, recipe.fileType);

    const plan = [...gguf.tensors.values()].map((t) => {
      const to = recipe.type(t.name, t.ne, layers);
      return { t, to, bytes: to ? (t.nElements / to.block) * to.bytes : t.byteSize };
    });
    const align = gguf.alignment;
    const infos: Buffer[] = [];
    let offset = 0;
    for (const p of plan) {
      const name = Buffer.from(p.t.name, "utf8");
      const info = Buffer.alloc(8 + name.length + 4 + 8 * p.t.ne.length + 4 + 8);
      let o = info.writeBigUInt64LE(BigInt(name.length), 0);
      o += name.copy(info, o);
      o = info.writeUInt32LE(p.t.ne.length, o);
      for (const n of p.t.ne) o = info.writeBigUInt64LE(BigInt(n), o);
      o = info.writeUInt32LE(p.to ? p.to.id : p.t.type.id, o);
      info.writeBigUInt64LE(BigInt(offset), o);
      infos.push(info);
      offset = Math.ceil((offset + p.bytes) / align) * align;
    }
    const tmp = `${values.out}.partial`;
    const out = await open(tmp, "w");
    try {
      // Header: magic and version, then the tensor count and the metadata (key count and pairs).
      const counts = Buffer.alloc(8);
      counts.writeBigUInt64LE(BigInt(plan.length));
      let pos = 0;
      const write = async (b: Uint8Array) => {
        await out.write(b, 0, b.length, pos);
        pos += b.length;
      };
      await write(head.subarray(0, 8));
      await write(counts);
      await write(head.subarray(16));
      for (const info of infos) await write(info);
      pos = Math.ceil(pos / align) * align;
      const dataStart = pos;
      let rel = 0;
      for (const p of plan) {
        const raw = await src.readAt(p.t.offset, p.t.byteSize, `tensor ${p.t.name}`);
        let data: Uint8Array = raw;
        if (p.to) {
          const f = new Float32Array(p.t.nElements);
          dequantizeInto(p.t.type.name, raw, f, 0, values.in);
          data = new Uint8Array(p.bytes);
          const { block, bytes, quantize } = p.to;
          for (let b = 0; b < p.t.nElements / block; b++)
            quantize(f.subarray(b * block, (b + 1) * block), data.subarray(b * bytes, (b + 1) * bytes));
        }
        pos = dataStart + rel;
        await write(data);
        rel = Math.ceil((rel + p.bytes) / align) * align;
        process.stderr.write(`\r${p.t.name} ${p.to ? p.to.name : p.t.type.name}        `);
      }
    } finally {
      await out.close();
    }
    await rename(tmp, values.out);
    process.stderr.write(`\nwrote ${values.out}\n`);
  } finally {
    await src.close();
  }
}

/** Sets the u32 value of general.file_type in raw GGUF metadata bytes, if the key is there. */
function patchFileType(head: Buffer, fileType: number): void {
  const key = Buffer.from("general.file_type");
  const at = head.indexOf(key);
  if (at < 8 || Number(head.readBigUInt64LE(at - 8)) !== key.length) return;
  const type = head.readUInt32LE(at + key.length);
  if (type === 4 /* u32 */) head.writeUInt32LE(fileType, at + key.length + 4);
}

if (process.argv[1]?.endsWith("kquant-gguf.ts")) await main();
