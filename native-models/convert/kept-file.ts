// A quantized GGUF kept as it is: the package holds the file itself, and the native kernels lay
// its blocks out each time it loads (runtime/kept-file-layout.ts). Nothing is rounded again and
// no weight is stored twice; an import costs one read of the file, which hashes it, checks every
// block's scales (and every float) and writes the package's copy at once.
import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { ModelSource, TensorName } from "../formats/model-source.js";
import { checkBlockScales, refuseNonFinite, SCALE_AT } from "../formats/tensor-read.js";
import { throwIfAborted } from "../formats/cancel.js";
import { dequantLayout } from "../formats/gguf-dequant.js";
import type { Manifest, StoredMatrix } from "../package/manifest.js";
import type { ByteInspector, SourceHash } from "./source-hash.js";
import {
  headStorage,
  LAYER_MATRICES,
  layerStorage,
  type LocatedBlocks,
  type MatrixStorage,
} from "./source-grid.js";

/** The package's copy of the file. */
export const KEPT_FILE = "model.gguf";
const FINAL_NORM_FILE = "final_norm.bin";
const POST_FFN_NORM_FILE = "post_ffn_norm.bin";

export interface KeptFile {
  /** Checks the file's tensors while it is hashed (source-hash.ts). */
  inspector: ByteInspector;
  /** Every tensor's bytes in the file, ascending. */
  ranges: readonly TensorRange[];
  embed: LocatedBlocks;
}

interface TensorRange {
  offset: number;
  length: number;
  unit: number;
  name: string;
  type: string;
}

/**
 * Reads a file once on another thread (the native kernels' readFile): its XXH3-128, the
 * non-finite units of each range (fp16 scales at `scales` in each unit, or `float` elements), and
 * a copy written to `copyTo` as it goes.
 */
export type FileReader = (
  file: string,
  o: {
    copyTo: string;
    /** Ascending, not overlapping. */
    ranges: {
      offset: number;
      length: number;
      unit: number;
      scales?: readonly number[];
      float?: "F32" | "F16" | "BF16";
    }[];
  },
) => {
  done: Promise<{ bytes: number; xxh128: string; nonFinite: number[] }>;
  cancel(): void;
  bytesRead(): number;
};

/**
 * The import's read of a kept file with `read`: the same hash and checks as hashSource with the
 * kept file's inspector, off the JavaScript thread (which builds the tokenizer meanwhile).
 */
export async function readKeptFile(
  source: ModelSource,
  kept: KeptFile,
  copyTo: string,
  read: FileReader,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<SourceHash> {
  throwIfAborted(signal);
  const ranges = kept.ranges.map((r) => ({
    offset: r.offset,
    length: r.length,
    unit: r.unit,
    // Every type but the floats has its scales' offsets (dequantLayout's types).
    ...(SCALE_AT[r.type] ? { scales: SCALE_AT[r.type] } : { float: r.type as "F32" | "F16" | "BF16" }),
  }));
  const reading = read(source.path, { copyTo, ranges });
  const stop = () => reading.cancel();
  signal.addEventListener("abort", stop, { once: true });
  // The read hashes the whole file, so its progress is a share of the file's size.
  const size = Math.max(1, statSync(source.path).size);
  const progress = setInterval(() => onProgress(Math.min(1, reading.bytesRead() / size)), 100);
  try {
    const r = await reading.done;
    r.nonFinite.forEach((count, i) =>
      refuseNonFinite(count, dequantLayout(kept.ranges[i].type)!.blockSize, kept.ranges[i].name, source.path),
    );
    return { bytes: r.bytes, xxh128: r.xxh128 };
  } catch (e) {
    throwIfAborted(signal);
    throw e;
  } finally {
    clearInterval(progress);
    signal.removeEventListener("abort", stop);
  }
}

/**
 * Whether a package of `bits` keeps `source` as it is: a GGUF whose every matrix the kernels hold
 * keeps the file's blocks (none laid out at other bits or re-rounded) and is found where the file
 * holds it (not reordered), and whose every tensor is a type the engine reads.
 */
export function keepsFile(
  source: Pick<ModelSource, "config" | "tensors" | "format" | "locateTensorBlocks">,
  bits: 4 | 8,
  blockSize: number,
): boolean {
  const locate = source.locateTensorBlocks?.bind(source);
  if (source.format !== "gguf" || !locate) return false;
  const cfg = source.config;
  const kept = (s: MatrixStorage, names: readonly TensorName[]) =>
    s.form !== "free" && names.every((n) => locate(n));
  const matrices = Object.entries(LAYER_MATRICES) as [keyof typeof LAYER_MATRICES, readonly string[]][];
  for (let l = 0; l < cfg.numLayers; l++) {
    const storage = layerStorage(source.tensors, l, bits, blockSize);
    const names = (parts: readonly string[]) => parts.map((p) => `layers.${l}.${p}` as TensorName);
    if (!matrices.every(([matrix, parts]) => kept(storage[matrix], names(parts)))) return false;
  }
  const head: TensorName = cfg.tiedEmbeddings ? "embed" : "lm_head";
  if (!kept(headStorage(source.tensors, cfg.tiedEmbeddings, bits, blockSize), [head])) return false;
  return [...source.tensors.keys()].every((name) => {
    const at = locate(name);
    return !!at && !!dequantLayout(at.type);
  });
}

/**
 * The plan for keeping `source` as it is in a package of `bits` (keepsFile); undefined where it is
 * not kept: the package is then laid out at import. `onChecked`: the fraction checked so far.
 */
export function keptFile(
  source: ModelSource,
  bits: 4 | 8,
  blockSize: number,
  onChecked: (fraction: number) => void,
): KeptFile | undefined {
  const locate = source.locateTensorBlocks?.bind(source);
  const embed = locate?.("embed");
  if (!locate || !embed || !keepsFile(source, bits, blockSize)) return undefined;

  const ranges: TensorRange[] = [];
  const seen = new Set<number>();
  for (const [name, t] of source.tensors) {
    const at = locate(name)!;
    const layout = dequantLayout(at.type)!;
    if (seen.has(at.offset)) continue;
    seen.add(at.offset);
    const rowBytes = (t.shape[t.shape.length - 1] / layout.blockSize) * layout.typeSize;
    ranges.push({
      offset: at.offset,
      length: at.rows * rowBytes,
      unit: layout.typeSize,
      name,
      type: at.type,
    });
  }
  ranges.sort((a, b) => a.offset - b.offset);
  const end = ranges.length ? ranges[ranges.length - 1].offset + ranges[ranges.length - 1].length : 1;
  let current = 0;
  const inspector: ByteInspector = {
    ranges,
    inspect(offset, bytes) {
      while (current < ranges.length && ranges[current].offset + ranges[current].length <= offset) current++;
      const r = ranges[current];
      if (r && offset >= r.offset) checkBlockScales(r.type, bytes, r.name, source.path);
      onChecked(Math.min(1, (offset + bytes.length) / end));
    },
  };
  return { inspector, ranges, embed };
}

/**
 * Writes the small files beside the package's copy of the file (which `copied` makes: hashSource's
 * copyTo, or readKeptFile) into the package folder `dir`; returns the manifest's fields for its weights.
 */
export async function writeKeptFile(
  source: ModelSource,
  kept: KeptFile,
  dir: string,
  bits: 4 | 8,
  copied: Promise<unknown>,
): Promise<Pick<Manifest, "graphs" | "embedding" | "lmHead" | "finalNorm" | "native">> {
  const cfg = source.config;
  const floats = async (file: string, values: Float32Array[]) => {
    const bytes = Buffer.concat(values.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
    await writeFile(path.join(dir, file), bytes);
    return { file, offset: 0, length: bytes.byteLength };
  };
  const finalNorm = await floats(FINAL_NORM_FILE, [await source.readTensor("final_norm")]);
  // Gemma's norm on the FFN output runs beside the native FFN, from one file for all layers.
  const postFfnNorms = cfg.postNorms
    ? await floats(
        POST_FFN_NORM_FILE,
        await Promise.all(
          Array.from({ length: cfg.numLayers }, (_, l) =>
            source.readTensor(`layers.${l}.post_ffn_norm` as TensorName),
          ),
        ),
      )
    : undefined;
  const layout = dequantLayout(kept.embed.type)!;
  const embedding: StoredMatrix = {
    file: KEPT_FILE,
    type: "ggml",
    ggmlType: kept.embed.type,
    rows: cfg.vocabSize,
    cols: cfg.hiddenSize,
    blockSize: 0,
    data: {
      offset: kept.embed.offset,
      length: (cfg.vocabSize * cfg.hiddenSize * layout.typeSize) / layout.blockSize,
    },
  };
  await copied;
  return {
    graphs: { layers: [], attention: [], head: "" },
    embedding,
    // The reduced head of early-exit checks reads the embedding's rows when tied, else the native head's.
    ...(cfg.tiedEmbeddings ? { lmHead: embedding } : {}),
    finalNorm,
    native: { bits, ffn: [], kept: KEPT_FILE, ...(postFfnNorms ? { postFfnNorms } : {}) },
  };
}
