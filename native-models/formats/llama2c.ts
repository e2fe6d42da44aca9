import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { BinaryFile, fsError, noteAllocation } from "./binary.js";
import { ModelFormatError } from "./errors.js";
import { checkConfig, checkTensors } from "./model-check.js";
import type { ModelConfig, ModelSource, TensorInfo, TensorName, TokenizerSource } from "./model-source.js";
import { readDequantized } from "./tensor-read.js";

// llama2.c legacy (v0) checkpoints: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len), then float32 arrays in run.c's order. A negative vocab_size means
// a separate classifier follows the freq_cis tables. There is no magic number, so the header is only
// believed when the size it implies equals the file size exactly.

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  shared: boolean;
  seqLen: number;
}

export const LLAMA2C_HEADER_BYTES = 28;

/** The header, or a reason it is not a plausible llama2.c header. */
export function parseLlama2cHeader(b: Uint8Array): Llama2cHeader | string {
  if (b.length < LLAMA2C_HEADER_BYTES) return `only ${b.length} bytes, shorter than the 28-byte header`;
  const dv = new DataView(b.buffer, b.byteOffset, LLAMA2C_HEADER_BYTES);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = Array.from({ length: 7 }, (_, i) =>
    dv.getInt32(i * 4, true),
  );
  const positive = { dim, hiddenDim, nLayers, nHeads, nKvHeads, seqLen };
  for (const [k, v] of Object.entries(positive)) if (v <= 0) return `${k} is ${v}`;
  if (vocab === 0 || vocab === -(2 ** 31)) return `vocab_size is ${vocab}`;
  if (dim % nHeads !== 0) return `dim ${dim} is not a multiple of n_heads ${nHeads}`;
  if (nKvHeads > nHeads || nHeads % nKvHeads !== 0)
    return `n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`;
  if ((dim / nHeads) % 2 !== 0) return `head size ${dim / nHeads} is odd`;
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), shared: vocab > 0, seqLen };
}

/** Float arrays in file order: [name, canonical name per layer (or undefined), shape of one entry, count]. */
function layout(h: Llama2cHeader): [string, ((i: number) => TensorName) | undefined, number[], number][] {
  const { dim, hiddenDim: f, nLayers: L, vocabSize: V, seqLen } = h;
  const kvDim = (dim * h.nKvHeads) / h.nHeads;
  const half = dim / h.nHeads / 2;
  const arrays: [string, ((i: number) => TensorName) | undefined, number[], number][] = [
    ["token_embedding_table", () => "embed", [V, dim], 1],
    ["rms_att_weight", (i) => `layers.${i}.attn_norm`, [dim], L],
    ["wq", (i) => `layers.${i}.wq`, [dim, dim], L],
    ["wk", (i) => `layers.${i}.wk`, [kvDim, dim], L],
    ["wv", (i) => `layers.${i}.wv`, [kvDim, dim], L],
    ["wo", (i) => `layers.${i}.wo`, [dim, dim], L],
    ["rms_ffn_weight", (i) => `layers.${i}.ffn_norm`, [dim], L],
    ["w1", (i) => `layers.${i}.w_gate`, [f, dim], L],
    ["w2", (i) => `layers.${i}.w_down`, [dim, f], L],
    ["w3", (i) => `layers.${i}.w_up`, [f, dim], L],
    ["rms_final_weight", () => "final_norm", [dim], 1],
    // RoPE tables: recomputed from theta by the engine, so skipped.
    ["freq_cis_real", undefined, [seqLen, half], 1],
    ["freq_cis_imag", undefined, [seqLen, half], 1],
  ];
  if (!h.shared) arrays.push(["wcls", () => "lm_head", [V, dim], 1]);
  return arrays;
}

/** Exact file size the header implies (BigInt: hostile headers overflow doubles). */
export function llama2cExpectedSize(h: Llama2cHeader): bigint {
  let floats = 0n;
  for (const [, , shape, count] of layout(h))
    floats += shape.reduce((a, d) => a * BigInt(d), 1n) * BigInt(count);
  return BigInt(LLAMA2C_HEADER_BYTES) + floats * 4n;
}

export async function openLlama2c(
  filePath: string,
  opts: { tokenizerPath?: string } = {},
): Promise<ModelSource> {
  const file = await BinaryFile.open(filePath);
  try {
    const h = parseLlama2cHeader(
      await file.readAt(0, Math.min(file.size, LLAMA2C_HEADER_BYTES), "the llama2.c header"),
    );
    if (typeof h === "string")
      throw new ModelFormatError(
        file.size < LLAMA2C_HEADER_BYTES ? "truncated" : "bad_config",
        `not a plausible llama2.c header: ${h}`,
        filePath,
      );
    const expected = llama2cExpectedSize(h);
    if (expected !== BigInt(file.size)) {
      throw new ModelFormatError(
        expected > BigInt(file.size) ? "truncated" : "bad_config",
        `the llama2.c header implies ${expected} bytes but the file is ${file.size} bytes`,
        filePath,
      );
    }
    const config: ModelConfig = {
      arch: "llama",
      name: path.basename(filePath).replace(/\.bin$/i, ""),
      hiddenSize: h.dim,
      intermediateSize: h.hiddenDim,
      numLayers: h.nLayers,
      numHeads: h.nHeads,
      numKvHeads: h.nKvHeads,
      headDim: h.dim / h.nHeads,
      vocabSize: h.vocabSize,
      contextLength: h.seqLen,
      // run.c's constants: the checkpoint does not store them.
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeInterleaved: true,
      attentionBias: false,
      tiedEmbeddings: h.shared,
    };
    checkConfig(config, filePath);
    const found = new Map<TensorName, TensorInfo>();
    const offsets = new Map<TensorName, { offset: number; n: number }>();
    let off = LLAMA2C_HEADER_BYTES;
    for (const [, name, shape, count] of layout(h)) {
      const n = shape.reduce((a, d) => a * d, 1);
      for (let i = 0; i < count; i++, off += n * 4) {
        if (!name) continue;
        const c = name(i);
        found.set(c, { name: c, shape, sourceType: "F32" });
        offsets.set(c, { offset: off, n });
      }
    }
    const tensors = checkTensors(config, found, (n) => n, filePath);
    const tokenizer = await llama2cTokenizer(filePath, h.vocabSize, opts.tokenizerPath);
    let closed = false;
    return {
      format: "llama2c",
      path: filePath,
      config,
      tokenizer,
      tensors,
      async readTensor(name) {
        if (closed) throw new Error(`readTensor(${name}) after close()`);
        const t = tensors.has(name) ? offsets.get(name) : undefined;
        if (!t) throw new ModelFormatError("missing_tensor", `no tensor ${name} in this model`, filePath);
        return readDequantized(file, t.offset, "F32", t.n, name);
      },
      async close() {
        closed = true;
        await file.close();
      },
    };
  } catch (e) {
    await file.close();
    throw e;
  }
}

const MAX_TOKENIZER_BYTES = 64 << 20;

async function llama2cTokenizer(
  modelPath: string,
  vocab: number,
  explicit?: string,
): Promise<TokenizerSource> {
  if (explicit) return readLlama2cTokenizer(explicit, vocab);
  const dir = path.dirname(modelPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw fsError(e, dir);
  }
  const self = path.basename(modelPath);
  const candidates = [
    ...names.filter((n) => n === "tokenizer.bin"),
    ...names.filter((n) => n === `tok${vocab}.bin`),
    ...names.filter((n) => /^tok.*\.bin$/.test(n) && n !== "tokenizer.bin" && n !== `tok${vocab}.bin`).sort(),
  ].filter((n) => n !== self);
  let firstError: unknown;
  for (const c of candidates) {
    try {
      return await readLlama2cTokenizer(path.join(dir, c), vocab);
    } catch (e) {
      firstError ??= e;
    }
  }
  if (firstError) throw firstError;
  return { kind: "none" };
}

// ignoreBOM: a piece that is exactly U+FEFF (Llama-2 has one) must not decode to "".
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** llama2.c tokenizer.bin: int32 max_token_length, then per token: float32 score, int32 length, bytes. */
export async function readLlama2cTokenizer(p: string, vocab: number): Promise<TokenizerSource> {
  let size: number;
  try {
    size = (await stat(p)).size;
  } catch (e) {
    throw fsError(e, p);
  }
  if (size > MAX_TOKENIZER_BYTES)
    throw new ModelFormatError("too_large", `tokenizer is ${size} bytes (limit ${MAX_TOKENIZER_BYTES})`, p);
  let b: Buffer;
  noteAllocation(size, "tokenizer.bin");
  try {
    b = await readFile(p);
  } catch (e) {
    throw fsError(e, p);
  }
  const bad = (msg: string) => new ModelFormatError("bad_tokenizer", msg, p);
  // Each token takes at least 8 bytes, so a count beyond that is a mismatch, caught before allocating.
  if (b.length < 4 || vocab > (b.length - 4) / 8)
    throw bad(`the file is ${b.length} bytes, too short for the model's ${vocab} tokens`);
  const maxLen = b.readInt32LE(0);
  if (maxLen <= 0) throw bad(`max_token_length is ${maxLen}`);
  noteAllocation(vocab * 16, "tokenizer pieces and scores");
  const pieces: string[] = new Array(vocab);
  const scores: number[] = new Array(vocab);
  let o = 4;
  for (let i = 0; i < vocab; i++) {
    if (o + 8 > b.length) throw bad(`the file ends at token ${i} of ${vocab}`);
    const score = b.readFloatLE(o);
    const len = b.readInt32LE(o + 4);
    o += 8;
    if (!Number.isFinite(score)) throw bad(`token ${i} has score ${score}`);
    if (len < 0 || len > b.length - o) throw bad(`token ${i} claims ${len} bytes but ${b.length - o} remain`);
    pieces[i] = utf8.decode(b.subarray(o, o + len));
    scores[i] = score;
    o += len;
  }
  if (o !== b.length)
    throw bad(
      `${b.length - o} bytes follow the model's ${vocab} tokens; is this the tokenizer for a larger vocabulary?`,
    );
  return { kind: "llama2c", pieces, scores };
}
