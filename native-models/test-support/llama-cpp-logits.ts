// llama.cpp (through node-llama-cpp, a dev dependency, CPU backend only) as the independent
// reference for whole-model tests: the next-token scores after every token of a sequence, and a
// comparison with ours that tolerates near ties.
//
// node-llama-cpp exposes no raw logits, only the full next-token distribution (temperature 1, no
// truncation). Its log is the logits shifted by a per-position constant (log-softmax), so every
// comparison here is made between log-softmax rows, ours normalised the same way.
import { getLlama, LlamaLogLevel, type Llama, type Token } from "node-llama-cpp";

let llama: Promise<Llama> | undefined;

function loadLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  return llama;
}

/** Which llama.cpp ran: its release and the CPU features its backend was built with. */
export async function llamaCppVariant(): Promise<string> {
  const l = await loadLlama();
  return `llama.cpp ${l.llamaCppRelease.release} (${l.buildType}, gpu=${String(l.gpu)}): ${l.systemInfo}`;
}

/**
 * llama.cpp's log-probabilities of the next token after each token of `ids` (row i: after ids[i]),
 * one row of vocabulary size per position. Tokens whose probability underflows are -Infinity.
 */
export async function llamaCppLogits(ggufPath: string, ids: readonly number[]): Promise<Float32Array[]> {
  const l = await loadLlama();
  const model = await l.loadModel({ modelPath: ggufPath, gpuLayers: 0, useMmap: false });
  try {
    const vocab = model.fileInfo.tensorInfo?.find((t) => t.name === "token_embd.weight")?.dimensions[1];
    const context = await model.createContext({
      contextSize: Math.ceil((ids.length + 16) / 256) * 256,
      batchSize: Math.max(512, ids.length),
      threads: { ideal: 1, min: 1 },
      // f32 cache and no flash attention: llama.cpp's f16 defaults alone move logits by ~1e-2.
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      flashAttention: false,
    });
    try {
      const options = { temperature: 1, topK: 0, topP: 1, minP: 0 };
      const results = await context
        .getSequence()
        .controlledEvaluate(
          ids.map((id) => [id as Token, { generateNext: { probabilities: true, options } }] as const),
        );
      return ids.map((_, i) => {
        const probs = results[i]?.next.probabilities;
        if (!probs) throw new Error(`llama.cpp gave no distribution at position ${i}`);
        const size = Number(vocab ?? Math.max(...probs.keys()) + 1);
        const row = new Float32Array(size).fill(-Infinity);
        for (const [token, p] of probs) row[token] = Math.log(p);
        return row;
      });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export interface Top1Comparison {
  /** Positions where both top-1 ids differ although llama.cpp's top-1/top-2 margin exceeds minMargin. */
  mismatches: { position: number; ours: number; theirs: number; margin: number }[];
  /** Positions whose margin was large enough to be compared. */
  compared: number;
  /** Largest |Δ log-softmax| over all positions and tokens llama.cpp gave a finite value. */
  maxAbsDelta: number;
}

/**
 * Compares per-position scores (ours: logits or log-probabilities, one row per position) with
 * llama.cpp's rows from llamaCppLogits. Both are normalised to log-softmax first.
 */
export function compareTop1(
  ours: readonly Float32Array[],
  theirs: readonly Float32Array[],
  minMargin: number,
): Top1Comparison {
  if (ours.length !== theirs.length)
    throw new Error(`compareTop1: ${ours.length} positions against ${theirs.length}`);
  const result: Top1Comparison = { mismatches: [], compared: 0, maxAbsDelta: 0 };
  ours.forEach((row, position) => {
    const a = logSoftmax(row);
    const b = logSoftmax(theirs[position]);
    if (a.length !== b.length) throw new Error(`compareTop1: vocab ${a.length} against ${b.length}`);
    for (let t = 0; t < b.length; t++)
      if (Number.isFinite(b[t])) result.maxAbsDelta = Math.max(result.maxAbsDelta, Math.abs(a[t] - b[t]));
    const [first, second] = topTwo(b);
    const margin = b[first] - b[second];
    if (margin <= minMargin) return;
    result.compared++;
    const mine = topTwo(a)[0];
    if (mine !== first) result.mismatches.push({ position, ours: mine, theirs: first, margin });
  });
  return result;
}

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

function topTwo(row: Float64Array): [number, number] {
  let first = 0;
  let second = -1;
  for (let i = 1; i < row.length; i++) {
    if (row[i] > row[first]) [first, second] = [i, first];
    else if (second < 0 || row[i] > row[second]) second = i;
  }
  return [first, Math.max(second, 0)];
}
