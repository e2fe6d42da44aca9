// Import = read any supported model file or folder, convert it into a layered, quantized
// onnxruntime package in the models folder. Nothing is left behind on failure or cancel.
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { openModelSource } from "../formats/open-model.js";
import type { ModelSource } from "../formats/model-source.js";
import { buildTokenizerJson } from "../tokenizer/build.js";
import { ModelFormatError } from "../formats/errors.js";
import {
  convertModel,
  countParams,
  defaultBlockSize,
  type ImportStage,
  type NativeWriter,
} from "../convert/convert-model.js";
import {
  attentionArguments,
  ffnArguments,
  headArguments,
  headFormBytes,
  layerFormBytes,
} from "../kernels/native-form.js";
import type { WeightQuant } from "../convert/linear.js";
import type { Manifest } from "../package/manifest.js";
import { calibrateModel } from "./calibrate-model.js";
import { loadNativeKernels } from "../kernels/index.js";
import { quantSizes, type QuantSizes } from "../convert/package-size.js";
import type { FileReader } from "../convert/kept-file.js";
import { fileQuant, GRID_BLOCK_SIZE, keptMatrices } from "../convert/source-grid.js";
import type { SourceBlocks } from "../../wire/model.js";

export interface ImportOptions {
  modelsDir: string;
  quant?: WeightQuant;
  name?: string;
  /** A file already in the library in this quantization: refuse, or import a second copy (default). */
  duplicates?: "refuse" | "allow";
  /** A tokenizer file for formats that keep it apart (llama2.c's tokenizer.bin). */
  tokenizerPath?: string;
  blockSize?: number;
  signal?: AbortSignal;
  onProgress?: (stage: ImportStage | "calibrate", progress: number) => void;
  /** Once the source's header is read: the quantization this import uses and the size each choice gives. */
  onPlan?: (plan: { quant: WeightQuant; sizes: QuantSizes; blocks: SourceBlocks }) => void;
  /** Calibrate early exit before the model enters the library (the app does; the CLI on request). */
  calibrate?: boolean;
  threads?: number;
  /**
   * Write the native kernels' form (default: when the native kernels are available here). The
   * package then holds each weight once, in that form only.
   */
  native?: boolean;
  /** With the native form, also onnxruntime's graphs and the FFN rows (three copies; for comparisons). */
  allForms?: boolean;
}

export interface ImportResult {
  manifest: Manifest;
  dir: string;
  seconds: number;
}

/** Models under this many parameters lose the most at int4: they default to int8. */
export const INT8_BELOW_PARAMS = 1e9;

/**
 * The quantization an import uses when none is asked for: a quantized file as it is (fileQuant:
 * its own block grids kept), a float one by its size.
 */
export function defaultQuant(source: ModelSource, bits = fileQuant(source.tensors)): WeightQuant {
  if (bits !== undefined) return bits === 4 ? "int4" : "int8";
  return countParams(source.config) < INT8_BELOW_PARAMS ? "int8" : "int4";
}

export async function importModel(input: string, o: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  o.onProgress?.("read", 0);
  const source = await openModelSource(path.resolve(input), { tokenizerPath: o.tokenizerPath });
  try {
    const fileBits = fileQuant(source.tensors);
    const quant = o.quant ?? defaultQuant(source, fileBits);
    // A quantized file keeps its blocks of 32 at any bits that hold them.
    const blockSize = o.blockSize ?? (fileBits ? GRID_BLOCK_SIZE : undefined);
    // The kernel is integer-only: float packages stay dense (their point is exactness).
    const native = o.native === false ? undefined : nativeWriter(o.threads);
    const sourceBytes = await fileBytes(source);
    // Built once the file's read has started (a kept GGUF is read on another thread meanwhile);
    // the plan's sizes include it.
    let tokenizer: { name: string; text: string }[] | undefined;
    const buildTokenizer = () => {
      tokenizer = tokenizerFiles(source);
      o.onPlan?.({
        quant,
        blocks: keptMatrices(source.tensors, quant, blockSize ?? defaultBlockSize(source.config)),
        sizes: quantSizes(
          { ...source, fileBytes: sourceBytes },
          {
            blockSize,
            native,
            allForms: o.allForms,
            tokenizerBytes: tokenizer.reduce((sum, f) => sum + Buffer.byteLength(f.text), 0),
          },
        ),
      });
      return tokenizer;
    };
    const manifest = await convertModel(source, {
      modelsDir: o.modelsDir,
      quant,
      name: o.name,
      duplicates: o.duplicates,
      blockSize,
      signal: o.signal,
      onProgress: o.onProgress,
      writeTokenizer: (_source, dir) => writeFiles(dir, tokenizer ?? buildTokenizer()),
      native: ["int4", "int8"].includes(quant) ? native : undefined,
      readFile: native ? fileReader() : undefined,
      allForms: o.allForms,
      beforeCommit: o.calibrate
        ? async (dir) => {
            o.onProgress?.("calibrate", 0);
            await calibrateModel(
              dir,
              { modelsDir: o.modelsDir, threads: o.threads },
              { signal: o.signal, onProgress: (f) => o.onProgress?.("calibrate", f) },
            );
          }
        : undefined,
    });
    return {
      manifest,
      dir: path.join(o.modelsDir, manifest.id),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await source.close();
  }
}

/** The native kernels' reader of a whole file (kept-file.ts), when they are available. */
function fileReader(): FileReader | undefined {
  const kernel = loadNativeKernels();
  return kernel.available ? (file, o) => kernel.readFile(file, o) : undefined;
}

/** The native kernels lay out and save each layer and the head; undefined when they are not available. */
function nativeWriter(threads = 2): NativeWriter | undefined {
  const kernel = loadNativeKernels();
  if (!kernel.available) return undefined;
  const saved = (handle: { save(file: string): void; close(): void }, file: string) => {
    try {
      handle.save(file);
    } finally {
      handle.close();
    }
  };
  return {
    writeLayer(cfg, layer, w, files, bits, blockSize, storage) {
      const ffn = ffnArguments(cfg, w, bits, blockSize, storage, threads);
      if (files.ffn) saved(kernel.createFfn(ffn), files.ffn);
      saved(kernel.createFfn({ ...ffn, form: "dense" }), files.dense);
      const attention = attentionArguments(cfg, layer, w, bits, blockSize, storage, threads);
      saved(kernel.createAttention(attention), files.attention);
    },
    layerBytes: layerFormBytes,
    headBytes: headFormBytes,
    writeHead(cfg, finalNorm, lmHead, file, bits, blockSize, storage) {
      const head = headArguments(cfg, finalNorm, lmHead, bits, blockSize, storage, threads);
      saved(kernel.createLinear(head), file);
    },
  };
}

/** The size of a single-file source (a GGUF, which a package may keep as it is). */
async function fileBytes(source: ModelSource): Promise<number | undefined> {
  const info = await stat(source.path);
  return info.isFile() ? info.size : undefined;
}

/** tokenizer.json and tokenizer_config.json for the source, as the package stores them. */
export function tokenizerFiles(source: ModelSource): { name: string; text: string }[] {
  let built: ReturnType<typeof buildTokenizerJson>;
  try {
    built = buildTokenizerJson(source.tokenizer);
  } catch (e) {
    // The tokenizer builders know what is wrong, not which file the user gave: name it.
    if (e instanceof ModelFormatError && !e.file) throw new ModelFormatError(e.code, e.message, source.path);
    throw e;
  }
  return [
    { name: "tokenizer.json", text: JSON.stringify(built.tokenizerJson) },
    { name: "tokenizer_config.json", text: JSON.stringify(built.tokenizerConfig, null, 2) },
  ];
}

async function writeFiles(dir: string, files: { name: string; text: string }[]): Promise<void> {
  for (const f of files) await writeFile(path.join(dir, f.name), f.text);
}
