// How a conversion keeps a file's blocks (formats/block-grid.ts): matrixStorage decides each
// matrix's bits and form (a grid of scales, Q4_K blocks, 8-bit K blocks, or quantized from the
// values), nativeForm hands the kernels what that form needs, and the same rules size packages
// (package-size.ts) and count what a package keeps (keptMatrices).
import { GRID_TYPES, type TensorGrid } from "../formats/block-grid.js";
import type { TensorInfo, TensorName } from "../formats/model-source.js";
import type { NBits } from "./quantize.js";
import { SOURCE_FORM, type SourceBlocks } from "../../wire/model.js";

/** The block size a kept grid needs. */
export const GRID_BLOCK_SIZE = 32;

/** `parts` stacked row-wise (each a row-major array of whole rows). */
function stacked<T extends Float32Array | Uint8Array | Int8Array>(parts: T[]): T {
  if (parts.length === 1) return parts[0];
  const out = new (parts[0].constructor as new (n: number) => T)(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** The scales of `parts` stacked row-wise, when every part has a scale grid these bits and block size hold. */
export function keptGrid(
  bits: NBits,
  blockSize: number,
  ...parts: (TensorGrid | undefined)[]
): Float32Array | undefined {
  if (blockSize !== GRID_BLOCK_SIZE || parts.some((g) => !g || g.bits > bits)) return undefined;
  return stacked(parts.map((g) => g!.scales));
}

/**
 * How the native kernels store one matrix (or row-wise stack of matrices): its bits, and which of
 * the file's forms it keeps, each exact: "grid" (a scale per block of 32: Q4_0 at 4 bits without
 * zero points, Q5_0 at 5, Q8_0 and Q4_0 at 8), "mins" (a scale and a min per block: Q4_1 at 4
 * bits, Q5_1 at 5), "q4k" (Q4_K blocks, 4 bits), "q5k" (Q5_K blocks, Q4_K's form with 5-bit
 * codes), "k6" (K-quant blocks of any K types, Q6_K alone, or stacks of K types: 6-bit codes;
 * `bits` 8), or "free" (quantized from the values).
 */
export interface MatrixStorage {
  bits: 4 | 5 | 8;
  form: "free" | "grid" | "mins" | "q4k" | "q5k" | "k6";
  /** "k6": the blocks have mins (a Q4_K or Q5_K part; Q6_K's have none, and none are stored). */
  mins?: boolean;
  /** 256: its activations are quantized as llama.cpp quantizes them for K-quant matrices (Q8_K). */
  activationGroup?: 256;
  /**
   * Stacks of different block types that each have a form of their own (llama.cpp's Q4_K q and k
   * with a Q6_K v; a Q5_0 q and k with a Q8_0 v): the matrix as bands of rows, each its own form,
   * so that no part is stored wider than its file has it. `parts` source tensors, `rows` rows
   * each band.
   */
  bands?: MatrixBand[];
}

export interface MatrixBand {
  parts: number;
  rows: number;
  storage: MatrixStorage;
}

/** How each of a layer's packed matrices is stored; absent: free at the layer's bits. */
export type LayerStorage = Partial<Record<"qkv" | "o" | "gate" | "up" | "down", MatrixStorage>>;

/** The K-quant types the engine reads (superblocks of 256 inputs). */
const K_TYPES = new Set(["Q4_K", "Q5_K", "Q6_K"]);

/** The 32-input block types with a form of their own, and its bits (Q4_0's: the package's). */
const BLOCK32_FORMS: Readonly<Record<string, { form: "grid" | "mins"; bits: 4 | 5 | 8 }>> = {
  Q4_0: { form: "grid", bits: 4 },
  Q5_0: { form: "grid", bits: 5 },
  Q8_0: { form: "grid", bits: 8 },
  Q4_1: { form: "mins", bits: 4 },
  Q5_1: { form: "mins", bits: 5 },
};

const FLOAT_TYPES = new Set(["F32", "F16", "BF16"]);

/** The 4-bit types of the files the engine reads: a file holding one is a 4-bit file. */
const FOUR_BIT_TYPES = new Set(["Q4_0", "Q4_1", "Q4_K"]);

/**
 * The storage of a matrix whose parts have these source types, in a package of `bits` at
 * `blockSize`. `asFile`: the package keeps the file as it is (its bits are not below the
 * file's, fileQuant): then no part is stored with fewer bits than its type has. Q4_K, Q4_1 and
 * Q4_0 matrices keep their blocks whatever the bits (Q4_0 in int8 codes in an int8 package); the
 * wider types theirs as the file is; a stack of different types that have forms of their own in
 * bands where it can be (else K types as one K6 matrix, grids in int8 codes); a stack mixing
 * those types with others is stored at the widest bits, quantized.
 */
export function matrixStorage(
  types: readonly (string | undefined)[],
  bits: 4 | 8,
  blockSize: number,
  asFile: boolean,
  rows?: readonly number[],
): MatrixStorage {
  if (blockSize !== GRID_BLOCK_SIZE) return { bits, form: "free" };
  const allK = types.every((t) => t && K_TYPES.has(t));
  const k = allK ? ({ activationGroup: 256 } as const) : {};
  const same = types.every((t) => t === types[0]);
  if (same && types[0] === "Q4_K") return { bits: 4, form: "q4k", ...k };
  const own = types[0] ? BLOCK32_FORMS[types[0]] : undefined;
  if (same && own && (own.bits === 4 || asFile))
    return { bits: types[0] === "Q4_0" ? bits : own.bits, form: own.form };
  if (!asFile) return freeOrGrid(types, bits, false);
  // Wider K types, alone or stacked with Q4_K; stacks of 32-input types in bands.
  if (same && types[0] === "Q5_K") return { bits: 5, form: "q5k", ...k };
  const bands =
    rows && (allK || types.every((t) => t && t in BLOCK32_FORMS)) && ownBands(types as string[], rows, bits);
  if (allK) {
    const stack = { bits: 8, form: "k6", mins: types.some((t) => t !== "Q6_K"), ...k } as const;
    return bands ? { ...stack, bands } : stack;
  }
  if (bands) return { bits: 8, form: "grid", bands };
  return freeOrGrid(types, bits, true);
}

/** A stack with no form of its own: its scale grids in int8 codes where every part has one, else quantized. */
function freeOrGrid(types: readonly (string | undefined)[], bits: 4 | 8, asFile: boolean): MatrixStorage {
  const needs8 = asFile && types.some((t) => t && !FLOAT_TYPES.has(t) && !FOUR_BIT_TYPES.has(t));
  const wide: 4 | 8 = needs8 ? 8 : bits;
  const kept = types.every((t) => t && GRID_TYPES[t] && GRID_TYPES[t].bits <= wide);
  return { bits: wide, form: kept ? "grid" : "free" };
}

/**
 * A stack of types with forms of their own as bands of equal types (each stored as
 * matrixStorage gives it alone), or undefined where there is one type or a band but the last
 * would not end on a group of 16 rows.
 */
function ownBands(types: readonly string[], rows: readonly number[], bits: 4 | 8): MatrixBand[] | undefined {
  const bands: { type: string; parts: number; rows: number }[] = [];
  types.forEach((type, i) => {
    const last = bands.at(-1);
    if (last?.type === type) {
      last.parts++;
      last.rows += rows[i];
    } else bands.push({ type, parts: 1, rows: rows[i] });
  });
  if (bands.length < 2 || bands.slice(0, -1).some((b) => b.rows % 16 !== 0)) return undefined;
  return bands.map((b) => ({
    parts: b.parts,
    rows: b.rows,
    storage: matrixStorage([b.type], bits, GRID_BLOCK_SIZE, true),
  }));
}

/** One tensor's rows as the file holds them, read (ModelSource.readTensorBlocks) or located in it. */
export type FileBlocks = ReadBlocks | LocatedBlocks;

/** A tensor's rows read from the file: its ggml type and bytes. */
export interface ReadBlocks {
  type: string;
  rows: number;
  bytes: Uint8Array;
}

/** Where the file holds a tensor's rows (ModelSource.locateTensorBlocks): the kernels read them there. */
export interface LocatedBlocks {
  type: string;
  rows: number;
  file: string;
  offset: number;
}

/** A matrix's stored form laid out by the native kernels from the file's own blocks (no values read). */
export interface SourceForm {
  bits: 4 | 5 | 8;
  keep: "grid" | "mins" | "q4k" | "q5k" | "k6";
  mins?: boolean;
  activationGroup?: 256;
  source: FileBlocks[];
}

/** A matrix laid out as bands of rows, each from its own part of the file's blocks (MatrixStorage.bands). */
export interface BandedForm {
  bands: SourceForm[];
}

/**
 * What the native kernels take as a matrix's stored form (kernels/types.ts BlockGrid) for
 * `storage`. `blocks`: the parts' rows as the file holds them, where read: a kept form is then
 * laid out from them, and the matrix's values are not needed.
 */
export function nativeForm(
  storage: MatrixStorage,
  parts: readonly (TensorGrid | undefined)[],
  blocks?: readonly (FileBlocks | undefined)[],
): SourceForm | BandedForm | { bits: 4 | 8; scales?: Float32Array; activationGroup?: 256 } {
  if (storage.bands && blocks?.length && blocks.every((b) => b)) {
    let at = 0;
    const bands = storage.bands.map((band) => {
      const own = blocks.slice(at, (at += band.parts));
      return nativeForm(band.storage, [], own) as SourceForm;
    });
    return { bands };
  }
  const group = storage.activationGroup ? { activationGroup: storage.activationGroup } : {};
  if (storage.form !== "free" && blocks?.length && blocks.every((b) => b)) {
    const mins = storage.form === "k6" ? { mins: !!storage.mins } : {};
    return { bits: storage.bits, keep: storage.form, ...mins, ...group, source: blocks as FileBlocks[] };
  }
  // These forms exist only as the file's blocks (every GGUF source gives them).
  if (storage.form !== "free" && storage.form !== "grid")
    throw new Error(`${storage.form} blocks are laid out from the file's bytes only`);
  if (storage.bits === 5) throw new Error("5-bit grids are laid out from the file's bytes only");
  const scales = storage.form === "grid" ? keptGrid(storage.bits, GRID_BLOCK_SIZE, ...parts) : undefined;
  return { bits: storage.bits, ...group, ...(scales ? { scales } : {}) };
}

/** Whether a conversion at these bits and block size keeps this source tensor's grid (from its type alone). */
export function keepsGrid(t: TensorInfo | undefined, bits: NBits, blockSize: number): boolean {
  const g = t && GRID_TYPES[t.sourceType];
  return !!g && g.bits <= bits && blockSize === GRID_BLOCK_SIZE;
}

/** The source's weight matrices: what the conversion quantizes (norms and biases stay float). */
function matrices(tensors: ReadonlyMap<TensorName, TensorInfo>): TensorInfo[] {
  return [...tensors.values()].filter((t) => t.shape.length === 2);
}

/**
 * The quantization that keeps a quantized file as it is, or undefined for a float file (the
 * engine's default by size applies): int4 for a file that holds 4-bit matrices (Q4_0, Q4_K
 * keep their values exactly; its wider matrices are kept at 8 bits, matrixStorage), int8 for a
 * file of wider types only (Q5_0 and Q8_0 keep their values exactly).
 */
export function fileQuant(tensors: ReadonlyMap<TensorName, TensorInfo>): NBits | undefined {
  const m = matrices(tensors).filter((t) => !t.name.startsWith("embed"));
  if (m.every((t) => FLOAT_TYPES.has(t.sourceType))) return undefined;
  return m.some((t) => FOUR_BIT_TYPES.has(t.sourceType)) ? 4 : 8;
}

/** Of the source's matrices, how many a package in this quantization keeps exactly, and the file's block types. */
export function keptMatrices(
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  quant: "int4" | "int8" | "f16" | "f32",
  blockSize: number,
): SourceBlocks {
  const m = matrices(tensors);
  const bits = quant === "int4" ? 4 : 8;
  const keepFile = asFile(tensors, bits);
  const keeps = (t: TensorInfo) => {
    if (quant === "f32") return true;
    // The embedding is int8 blocks of 32 in every integer package.
    if (quant === "f16") return t.sourceType === "F16";
    if (t.name === "embed") return keepsGrid(t, 8, GRID_BLOCK_SIZE) || keepsFileRows(tensors, "embed", quant);
    return matrixStorage([t.sourceType], bits, blockSize, keepFile).form !== "free";
  };
  return {
    form: SOURCE_FORM,
    kept: m.filter(keeps).length,
    of: m.length,
    types: [...new Set(m.map((t) => t.sourceType))].sort(),
  };
}

/** Whether a package at these bits keeps the file as it is (matrixStorage): not below the file's bits. */
export function asFile(tensors: ReadonlyMap<TensorName, TensorInfo>, bits: 4 | 8): boolean {
  const file = fileQuant(tensors);
  return file !== undefined && bits >= file;
}

/** The source tensors (layers.N.<name>) stacked into each of a layer's packed matrices. */
export const LAYER_MATRICES = {
  qkv: ["wq", "wk", "wv"],
  o: ["wo"],
  gate: ["w_gate"],
  up: ["w_up"],
  down: ["w_down"],
} as const;

/** How the native kernels store each of layer l's packed matrices in a package of `bits` at `blockSize`. */
export function layerStorage(
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  l: number,
  bits: 4 | 8,
  blockSize: number,
): Required<LayerStorage> {
  const keep = asFile(tensors, bits);
  const of = (names: readonly string[]) => {
    const parts = names.map((n) => tensors.get(`layers.${l}.${n}` as TensorName));
    return matrixStorage(
      parts.map((t) => t?.sourceType),
      bits,
      blockSize,
      keep,
      parts.map((t) => t?.shape[0] ?? 0),
    );
  };
  return {
    qkv: of(LAYER_MATRICES.qkv),
    o: of(LAYER_MATRICES.o),
    gate: of(LAYER_MATRICES.gate),
    up: of(LAYER_MATRICES.up),
    down: of(LAYER_MATRICES.down),
  };
}

/** How the native kernels store the LM head (the embedding when tied). */
export function headStorage(
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  tied: boolean,
  bits: 4 | 8,
  blockSize: number,
): MatrixStorage {
  const t = tensors.get(tied ? "embed" : "lm_head");
  return matrixStorage([t?.sourceType], bits, blockSize, asFile(tensors, bits));
}

/** Types a rows file keeps as the file's own blocks (read by ggml's formula): every quantized type read. */
const FILE_ROW_TYPES = new Set(["Q4_0", "Q5_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "Q4_1", "Q5_1"]);

/** Whether the rows file of `name` (the embedding, the LM head's rows) holds the file's own blocks. */
export function keepsFileRows(
  tensors: ReadonlyMap<TensorName, TensorInfo>,
  name: TensorName,
  quant: "int4" | "int8" | "f16" | "f32",
): boolean {
  const t = tensors.get(name);
  if (!t || !FILE_ROW_TYPES.has(t.sourceType) || (quant !== "int4" && quant !== "int8")) return false;
  return asFile(tensors, quant === "int4" ? 4 : 8);
}
