// Whether we compute what llama.cpp computes from the same GGUF: teacher-forced over the benchmark
// text, our engine's next-token distribution at every position against llama.cpp's. Top-1
// agreement and the mean KL(llama.cpp || ours) in nats.
//
// For scale, the same figures between llama.cpp and itself with its other attention path (flash
// attention off; the default is on): both are exact to float rounding, yet on a model with flat
// distributions (random weights) the rounding flips some int8 activation codes and the flips grow
// through the layers. A gap to us near that one is rounding noise, not a different model.
import { LoadedModel } from "../engine/loaded-model.js";
import { BENCH_TEXT, benchPrompt } from "./bench-text.js";
import { argmax } from "../runtime/sampler.js";

export interface Agreement {
  top1Agreement: number;
  meanKlNats: number;
}

export interface QualityVsLlamaCpp extends Agreement {
  positions: number;
  /** llama.cpp (default) against llama.cpp with flash attention off, on the same positions. */
  llamaCppSelf: Agreement;
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
  const [theirs, theirOther] = await llamaCppDistributions(gguf, ids, threads, V);
  return {
    positions: ids.length,
    ...agreement(theirs, (i) => ours.subarray(i * V, (i + 1) * V)),
    llamaCppSelf: agreement(theirs, (i) => theirOther[i], false),
  };
}

/** Top-1 agreement and mean KL(p || q) over positions; q as logits, or as probabilities. */
function agreement(p: Float32Array[], q: (i: number) => Float32Array, logits = true): Agreement {
  let agree = 0;
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const qi = q(i);
    const probs = logits ? softmax(qi) : qi;
    if (argmax(p[i]) === argmax(qi)) agree++;
    for (let t = 0; t < p[i].length; t++)
      if (p[i][t] > 0) kl += p[i][t] * Math.log(p[i][t] / Math.max(probs[t], 1e-30));
  }
  return {
    top1Agreement: Math.round((agree / p.length) * 10000) / 10000,
    meanKlNats: Math.round((kl / p.length) * 1e5) / 1e5,
  };
}

/**
 * llama.cpp's full next-token distribution after each token of `ids` (temperature 1, no
 * truncation): with its default context, then with flash attention off.
 */
async function llamaCppDistributions(
  gguf: string,
  ids: number[],
  threads: number,
  V: number,
): Promise<[Float32Array[], Float32Array[]]> {
  const { getLlama } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0 });
  const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0, useMmap: false });
  const run = async (flashAttention?: boolean): Promise<Float32Array[]> => {
    const context = await model.createContext({
      contextSize: Math.ceil((ids.length + 16) / 256) * 256,
      batchSize: Math.max(512, ids.length),
      threads: { ideal: threads, min: threads },
      ...(flashAttention === undefined ? {} : { flashAttention }),
    });
    try {
      const options = { temperature: 1, topK: 0, topP: 1, minP: 0 };
      const results = await context
        .getSequence()
        .controlledEvaluate(
          ids.map((id) => [id, { generateNext: { probabilities: true, options } }] as never),
        );
      return results.map((r, i) => {
        const probs = r?.next.probabilities;
        if (!probs || probs.size < V / 2)
          throw new Error(`llama.cpp gave no full distribution at position ${i}`);
        const p = new Float32Array(V);
        for (const [token, prob] of probs) p[token] = prob;
        return p;
      });
    } finally {
      await context.dispose();
    }
  };
  try {
    return [await run(), await run(false)];
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
