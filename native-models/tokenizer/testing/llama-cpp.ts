import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";

// llama.cpp (through node-llama-cpp, a dev dependency) as the reference tokenizer in tests.
// Vocabulary-only loading reads no weights, so this is fast and needs no GPU.

let llama: Promise<Llama> | undefined;

export async function loadLlamaCppVocab(modelPath: string, pre?: string): Promise<LlamaModel> {
  // Vocab-only files make llama.cpp log "missing tensor" errors while it still loads the vocabulary.
  llama ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.disabled });
  return (await llama).loadModel({
    modelPath,
    vocabOnly: true,
    ...(pre !== undefined ? { metadataOverrides: { tokenizer: { ggml: { pre } } } } : {}),
  });
}

export interface Mismatch {
  text: string;
  ours: number[];
  llamaCpp: number[];
}

/** Texts whose ids differ between `ours` and llama.cpp. */
export function compareTokenization(
  texts: readonly string[],
  ours: (text: string) => number[],
  reference: (text: string) => readonly number[],
): Mismatch[] {
  const out: Mismatch[] = [];
  for (const text of texts) {
    const a = ours(text);
    const b = [...reference(text)].map(Number);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) out.push({ text, ours: a, llamaCpp: b });
  }
  return out;
}

/**
 * llama.cpp's detokenize clean-up for byte-level BPE vocabularies (clean_spaces, llama-vocab.cpp):
 * " ?", " !", " .", " ," lose the space, " ' " becomes "'", and " 's", " 'm", " 're", " 've" lose
 * the space. We never alter decoded text, so tests apply this to our output before comparing.
 */
export function llamaCppCleanSpaces(text: string): string {
  let s = text.replace(/ ([?!.,])/g, "$1");
  s = s.replace(/ ' /g, "'");
  s = s.replace(/ '(s|m|re|ve)/g, "'$1");
  return s;
}

/** Plain ids as node-llama-cpp's branded Token type. */
export function asTokens(ids: readonly number[]): Token[] {
  return ids as Token[];
}
