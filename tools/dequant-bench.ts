// Measures reading + dequantizing every tensor of a model file (any format openModelSource reads):
//   npx tsx tools/dequant-bench.ts FILE [--repeat N]
// Prints per-type throughput and the total. The first pass may include disk reads; later ones are page-cache hot.
import { openModelSource } from "../native-models/formats/open-model.js";

async function main(): Promise<void> {
  const file = process.argv[2];
  const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1] || 1);
  if (!file) throw new Error("usage: dequant-bench.ts FILE [--repeat N]");
  const t0 = performance.now();
  const src = await openModelSource(file);
  const openMs = performance.now() - t0;
  for (let r = 0; r < repeat; r++) {
    const perType = new Map<string, { n: number; ms: number }>();
    const start = performance.now();
    let total = 0;
    for (const [name, info] of src.tensors) {
      const t = performance.now();
      const w = await src.readTensor(name);
      const e = perType.get(info.sourceType) ?? { n: 0, ms: 0 };
      e.n += w.length;
      e.ms += performance.now() - t;
      perType.set(info.sourceType, e);
      total += w.length;
    }
    const ms = performance.now() - start;
    const types = [...perType].map(
      ([k, v]) =>
        `${k}: ${(v.n / 1e6).toFixed(1)}M values in ${(v.ms / 1000).toFixed(2)} s (${(v.n / v.ms / 1e3).toFixed(0)} M/s)`,
    );
    console.log(
      `pass ${r + 1}: open ${openMs.toFixed(0)} ms; ${src.tensors.size} tensors, ${(total / 1e6).toFixed(1)}M values in ${(ms / 1000).toFixed(2)} s; ${types.join("; ")}`,
    );
  }
  await src.close();
}

void main();
