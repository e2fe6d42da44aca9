// Valid base inputs for the fuzzer: small models built in memory for every reader, plus the real
// stories260K files when /work/shared is present.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { stories } from "../../native-models/test-support/shared-fixtures.js";
import { writeGguf } from "../../native-models/test-support/gguf-writer.js";
import { tinyHfFolder } from "../../native-models/test-support/hf-writer.js";
import { llama2cTokenizerBin, tinyLlama2c } from "../../native-models/test-support/llama2c-writer.js";
import { tinyGguf, tinyModel } from "../../native-models/test-support/tiny-models.js";
import {
  ggufFields,
  jsonFields,
  llama2cFields,
  safetensorsFields,
  tokenizerBinFields,
  type Field,
} from "./fields.js";

export const READERS = [
  "gguf",
  "safetensors",
  "hf-config",
  "hf-tokenizer",
  "llama2c",
  "llama2c-tokenizer",
] as const;
export type Reader = (typeof READERS)[number];

export interface Base {
  name: string;
  reader: Reader;
  /** Files of one case, by name inside the case folder. */
  files: Record<string, Uint8Array>;
  /** The file the mutations change. */
  target: string;
  /** What is opened: a file name in the case folder, or "" for the folder itself. */
  entry: string;
  fields: Field[];
  kind: "binary" | "json" | "safetensors";
}

const enc = (files: Record<string, Uint8Array | string>) =>
  Object.fromEntries(
    Object.entries(files).map(([k, v]) => [k, typeof v === "string" ? new TextEncoder().encode(v) : v]),
  );

function hfBases(prefix: string, files: Record<string, Uint8Array>): Base[] {
  const out: Base[] = [];
  for (const target of Object.keys(files)) {
    if (target.endsWith(".safetensors"))
      out.push({
        name: `${prefix}/${target}`,
        reader: "safetensors",
        files,
        target,
        entry: "",
        fields: safetensorsFields(files[target]),
        kind: "safetensors",
      });
    else if (target === "config.json")
      out.push({
        name: `${prefix}/${target}`,
        reader: "hf-config",
        files,
        target,
        entry: "",
        fields: jsonFields(files[target]),
        kind: "json",
      });
    else if (target.startsWith("tokenizer"))
      out.push({
        name: `${prefix}/${target}`,
        reader: "hf-tokenizer",
        files,
        target,
        entry: "",
        fields: jsonFields(files[target]),
        kind: "json",
      });
  }
  return out;
}

function ggufBase(name: string, bytes: Uint8Array): Base {
  return {
    name,
    reader: "gguf",
    files: { "model.gguf": bytes },
    target: "model.gguf",
    entry: "model.gguf",
    fields: ggufFields(bytes),
    kind: "binary",
  };
}

function llama2cBases(name: string, model: Uint8Array, tok: Uint8Array): Base[] {
  const files = { "model.bin": model, "tokenizer.bin": tok };
  return [
    {
      name: `${name}/model.bin`,
      reader: "llama2c",
      files,
      target: "model.bin",
      entry: "model.bin",
      fields: llama2cFields(model),
      kind: "binary",
    },
    {
      name: `${name}/tokenizer.bin`,
      reader: "llama2c-tokenizer",
      files,
      target: "tokenizer.bin",
      entry: "model.bin",
      fields: tokenizerBinFields(tok),
      kind: "binary",
    },
  ];
}

function builtBases(): Base[] {
  const llama = tinyModel({ tied: false, seed: 1 });
  const qwen = tinyModel({ arch: "qwen2", seed: 2 });
  const wide = tinyModel({ hidden: 256, ff: 256, layers: 1, vocab: 32, seed: 3 });
  const tied = tinyModel({ seed: 4 });
  return [
    ggufBase("tiny-llama-f32.gguf", tinyGguf(llama).bytes),
    ggufBase("tiny-qwen2-q8_0.gguf", tinyGguf(qwen, { type: "Q8_0" }).bytes),
    ggufBase("tiny-llama-q4_k.gguf", tinyGguf(wide, { type: "Q4_K" }).bytes),
    ggufBase("tiny-llama-q6_k-v2.gguf", tinyGguf(wide, { type: "Q6_K", version: 2 }).bytes),
    ggufBase("tiny-llama-f16.gguf", tinyGguf(tied, { type: "F16" }).bytes),
    ggufBase(
      "vocab-only.gguf",
      writeGguf({
        metadata: {
          "general.architecture": "llama",
          "tokenizer.ggml.tokens": tied.pieces,
          nested: [[1, 2], ["a"]],
        },
      }).bytes,
    ),
    ...hfBases("tiny-hf-llama", enc(tinyHfFolder(llama))),
    ...hfBases("tiny-hf-qwen2-sharded", enc(tinyHfFolder(qwen, { dtype: "BF16", shards: 2 }))),
    ...llama2cBases("tiny-l2c-untied", tinyLlama2c(llama), llama2cTokenizerBin(llama.pieces)),
    ...llama2cBases("tiny-l2c-tied", tinyLlama2c(tied), llama2cTokenizerBin(tied.pieces)),
  ];
}

function sharedBases(): Base[] {
  if (!existsSync(stories.dir)) return [];
  const read = (p: string) => new Uint8Array(readFileSync(p));
  const hf = Object.fromEntries(
    ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"].map((f) => [
      f,
      read(path.join(stories.hf, f)),
    ]),
  );
  return [
    ggufBase("stories260K-q8_0.gguf", read(stories.ggufQ8)),
    ggufBase("stories260K-f32.gguf", read(stories.gguf)),
    ...hfBases("stories260K-hf", hf),
    ...llama2cBases("stories260K-l2c", read(stories.llama2c), read(stories.llama2cTokenizer)),
  ];
}

let cache: { built: Base[]; shared: Base[] } | undefined;

export function fuzzBases(): { built: Base[]; shared: Base[] } {
  cache ??= { built: builtBases(), shared: sharedBases() };
  return cache;
}
