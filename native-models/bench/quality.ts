// Whether our quantization keeps what the file says: teacher-forced over the benchmark text, our
// engine's next-token distribution at every position against llama.cpp's on the same GGUF (which
// reads the file's own blocks, K-quants included, while we re-quantize to int4/int8). Top-1
// agreement and the mean KL(llama.cpp || ours) in nats.
import { LoadedModel } from "../engine/loaded-model.js";
import { BENCH_TEXT, benchPrompt } from "./bench-text.js";
import { argmax } from "../runtime/sampler.js";

export interface QualityVsLlamaCpp {
  positions: number;
  top1Agreement: number;
  meanKlNats: number;
}

export async function compareWithLlamaCpp(
  packageDir: string,
  gguf: string,
  threads: number,
  tokens: number,
): Promise<QualityVsLlamaCpp> {
  const model = await LoadedModel.load(packageDir, {
    modelsDir: packageDir,
    threads,
    contextLength: tokens + 16,
  });
  let ours: Float32Array;
  let ids: number[];
  const V = model.runner.config.vocabSize;
  try {
    ids = benchPrompt(model.tokenizer.encode(BENCH_TEXT, { addBos: false }), tokens, model.tokenizer.bos);
    ours = await model.decoder.allLogits(ids);
  } finally {
    await model.dispose();
  }
  const theirs = await llamaCppDistributions(gguf, ids, threads, V);
  let agree = 0;
  let kl = 0;
  const n = ids.length;
  for (let i = 0; i < n; i++) {
    const p = theirs[i];
    const q = softmax(ours.subarray(i * V, (i + 1) * V));
    if (argmax(p) === argmax(ours, i * V, V)) agree++;
    for (let t = 0; t < V; t++) if (p[t] > 0) kl += p[t] * Math.log(p[t] / Math.max(q[t], 1e-30));
  }
  return {
    positions: n,
    top1Agreement: Math.round((agree / n) * 10000) / 10000,
    meanKlNats: Math.round((kl / n) * 1e5) / 1e5,
  };
}

/** llama.cpp's full next-token distribution after each token of `ids` (temperature 1, no truncation). */
async function llamaCppDistributions(
  gguf: string,
  ids: number[],
  threads: number,
  V: number,
): Promise<Float32Array[]> {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0 });
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0, useMmap: false });
  try {
    const context = await model.createContext({
      contextSize: Math.ceil((ids.length + 16) / 256) * 256,
      batchSize: Math.max(512, ids.length),
      threads: { ideal: threads, min: threads },
    });
    const seq = context.getSequence();
    const options = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const results = await seq.controlledEvaluate(
      ids.map((id) => [id, { generateNext: { probabilities: true, options } }] as never),
    );
    await context.dispose();
    return results.map((r, i) => {
      const probs = r?.next.probabilities;
      if (!probs || probs.size < V / 2)
        throw new Error(`llama.cpp gave no full distribution at position ${i}`);
      const p = new Float32Array(V);
      for (const [token, prob] of probs) p[token] = prob;
      return p;
    });
  } finally {
    await model.dispose();
  }
}

function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
