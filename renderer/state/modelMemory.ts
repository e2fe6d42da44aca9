// The memory a model needs once loaded, said on its card before loading it: its package's files
// (the weights are read into memory) plus the K/V cache at the context it will run with (the
// smaller of the setting and the model's own limit, as the engine takes it).
import type { ModelSummary } from "../../electron/contract";
import { formatBytes } from "./format";

export interface ModelMemory {
  totalBytes: number;
  filesBytes: number;
  kvBytes: number;
  contextTokens: number;
}

export function modelMemory(model: ModelSummary, contextSetting: number | undefined): ModelMemory | null {
  if (model.kvBytesPerToken === undefined) return null;
  const contextTokens = Math.min(contextSetting ?? model.contextLength, model.contextLength);
  const kvBytes = model.kvBytesPerToken * contextTokens;
  return { totalBytes: model.sizeBytes + kvBytes, filesBytes: model.sizeBytes, kvBytes, contextTokens };
}

/** "About 1.4 MB (files 1.2 MB + context cache 640 KB at 512 tokens)". */
export function describeModelMemory(m: ModelMemory): string {
  return `About ${formatBytes(m.totalBytes)} (files ${formatBytes(m.filesBytes)} + context cache ${formatBytes(m.kvBytes)} at ${m.contextTokens.toLocaleString("en-US")} tokens)`;
}
