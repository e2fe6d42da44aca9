// Microbenchmark (issue 7, acceptance 1): one TinyLlama-size FFN (d=2048, ffn=5632), batch 1,
// onnxruntime MatMulNBits vs the native sparse kernel, dense and at several sparsities.
//
//   npx tsx tools/bench-kernel.ts [--bits 8|4] [--block 32] [--threads 2]
//        [--layers 4] [--rounds 9] [--iters 40] [--d 2048] [--ffn 5632] [--out file.json]
//
// `--layers` copies of the FFN are run in rotation, as a model's layers are, so the weights come
// from DRAM and not from the 32 MB L3 (one int4 FFN fits in it). Variants alternate within every
// round and each round starts with a different one; the machine is shared, so medians and p10
// over all rounds are reported, plus a read-bandwidth probe taken in the same minutes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "../native-models/convert/onnx-builder.js";
import { emitLinear, stackRows } from "../native-models/convert/linear.js";
import { ortSessionOptions } from "../native-models/runtime/sessions.js";
import { loadNativeKernels, type SparseFfn } from "../native-models/kernels/index.js";
import { floatFfn } from "../native-models/test-support/kernel-reference.js";
import {
  randomFfn,
  randomInput,
  relativeError,
  thresholdFor,
} from "../native-models/test-support/kernel-synthetic.js";

const { values: a } = parseArgs({
  options: {
    bits: { type: "string", default: "8" },
    block: { type: "string", default: "32" },
    threads: { type: "string", default: "2" },
    layers: { type: "string", default: "4" },
    rounds: { type: "string", default: "9" },
    iters: { type: "string", default: "40" },
    d: { type: "string", default: "2048" },
    ffn: { type: "string", default: "5632" },
    spin: { type: "string", default: "0" },
    out: { type: "string" },
  },
});
const bits = Number(a.bits) as 4 | 8;
const blockSize = Number(a.block) as 32 | 64 | 128 | 256;
const [threads, layers, rounds, iters, d, ffn] = [a.threads, a.layers, a.rounds, a.iters, a.d, a.ffn].map(
  Number,
);

const kernel = loadNativeKernels();
if (!kernel.available) throw new Error(kernel.detail);
kernel.setSpinMicros(Number(a.spin));
const log = (s: string) => process.stderr.write(`${s}\n`);

log(`weights: d=${d} ffn=${ffn} int${bits} block ${blockSize}, ${layers} copies, ${threads} threads`);
const w = { ...randomFfn(d, ffn, 7), bits, blockSize };
const inputs = Array.from({ length: 8 }, (_, i) => randomInput(d, 100 + i));

// --- onnxruntime: the engine's own emitLinear, gate+up stacked as one MatMulNBits (N = 2*ffn).
const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-ffn-bench-"));
const ortFile = path.join(dir, "ffn.onnx");
{
  const g = new GraphBuilder("ffn", "ffn.bin");
  const x = g.input("x", "float32", [1, 1, d]);
  const lin = { quant: bits === 8 ? "int8" : "int4", blockSize, accuracyLevel: 4 } as const;
  const gateUp = emitLinear(g, "gate_up", x, stackRows([w.gate, w.up]), 2 * ffn, d, lin);
  const split = g.constant("split", "int64", [2], new BigInt64Array([BigInt(ffn), BigInt(ffn)]));
  const [gate, up] = g.node("Split", [gateUp, split], 2, { axis: -1 });
  const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
  g.node("Identity", [emitLinear(g, "down", act, w.down, d, ffn, lin)], ["y"]);
  g.output("y", "float32", [1, 1, d]);
  const { model, weights } = g.build();
  writeFileSync(ortFile, model);
  writeFileSync(path.join(dir, "ffn.bin"), Buffer.concat(weights.chunks));
}
const ortOptions = (spinning: "0" | "1") => ({
  ...ortSessionOptions({ threads, executionProvider: "cpu" }),
  extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
});
const ortSpin0 = await Promise.all(
  Array.from({ length: layers }, () => ort.InferenceSession.create(ortFile, ortOptions("0"))),
);
const ortSpin1 = await Promise.all(
  Array.from({ length: layers }, () => ort.InferenceSession.create(ortFile, ortOptions("1"))),
);
rmSync(dir, { recursive: true, force: true });

// --- native kernel: `layers` separately laid-out copies.
const createMs: number[] = [];
const ffns: SparseFfn[] = [];
for (let l = 0; l < layers; l++) {
  const t0 = performance.now();
  ffns.push(kernel.createFfn({ ...w, threads }));
  createMs.push(performance.now() - t0);
}
const info = ffns[0].info;

// Thresholds from calibration inputs (not the timed ones' order), then the active fraction reached.
const out = new Float32Array(d);
const calib = [0, 1, 2, 3].map((i) => {
  const acts = new Float32Array(ffn);
  ffns[0].run(randomInput(d, 900 + i), out, 0, acts);
  return acts;
});
const targets = { dense: 1, active75: 0.75, active50: 0.5, active25: 0.25 };
const thresholds = Object.fromEntries(Object.entries(targets).map(([k, f]) => [k, thresholdFor(calib, f)]));

// Accuracy against float64 math on one input (dense), so the speed comparison is like for like.
const exact = floatFfn(w, inputs[0]).out;
ffns[0].run(inputs[0], out, 0);
const errNative = relativeError(out, exact);
const xTensor = new ort.Tensor("float32", inputs[0], [1, 1, d]);
const yTensor = new ort.Tensor("float32", new Float32Array(d), [1, 1, d]);
await ortSpin0[0].run({ x: xTensor }, { y: yTensor });
const errOrt = relativeError(yTensor.data as Float32Array, exact);

type Variant = { name: string; call: (layer: number, x: Float32Array) => Promise<number> | number };
const xTensors = inputs.map((x) => new ort.Tensor("float32", x, [1, 1, d]));
const ortVariant = (name: string, sessions: ort.InferenceSession[]): Variant => ({
  name,
  call: async (l, x) => {
    await sessions[l].run({ x: xTensors[inputs.indexOf(x)] }, { y: yTensor });
    return ffn;
  },
});
const variants: Variant[] = [
  ortVariant("ort_matmulnbits_spin0", ortSpin0),
  {
    name: "native_dense_1thread",
    call: (l: number, x: Float32Array) => {
      ffns[l].setThreads(1);
      const n = ffns[l].run(x, out, 0).active;
      ffns[l].setThreads(threads);
      return n;
    },
  },
  ...Object.entries(thresholds).map(([k, t]) => ({
    name: `native_${k}`,
    call: (l: number, x: Float32Array) => ffns[l].run(x, out, t).active,
  })),
  ortVariant("ort_matmulnbits_spin1", ortSpin1),
];

const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const active = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const probes: number[] = [];
const load0 = os.loadavg();
// Non-spinning variants alternate call by call (round-robin, rotated each round), so background
// load hits them alike. Spinning onnxruntime keeps a worker busy after each call, which would slow
// whatever runs next, so it runs as its own block per round followed by a pause.
const [spinning, interleaved] = [
  variants.filter((v) => v.name.endsWith("spin1")),
  variants.filter((v) => !v.name.endsWith("spin1")),
];
const timeCall = async (v: Variant, i: number) => {
  const x = inputs[i % inputs.length];
  const t0 = process.hrtime.bigint();
  const n = await v.call(i % layers, x);
  times.get(v.name)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
  active.get(v.name)!.push(n);
};
for (let r = 0; r < rounds; r++) {
  log(`round ${r + 1}/${rounds}`);
  probes.push(kernel.probeReadBandwidth(256, threads, 3));
  for (const v of variants) for (let i = 0; i < 4; i++) await v.call(i % layers, inputs[i % inputs.length]); // warm-up
  await new Promise((res) => setTimeout(res, 50));
  for (let i = 0; i < iters; i++) {
    for (let k = 0; k < interleaved.length; k++)
      await timeCall(interleaved[(k + r + i) % interleaved.length], i);
  }
  for (const v of spinning) {
    for (let i = 0; i < iters; i++) await timeCall(v, i);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(s.length * p))];
const results = Object.fromEntries(
  variants.map((v) => {
    const s = [...times.get(v.name)!].sort((x, y) => x - y);
    const frac = active.get(v.name)!.reduce((x, y) => x + y, 0) / active.get(v.name)!.length / ffn;
    // Bytes actually read: gate rows always, up and down rows of active neurons (native layout);
    // onnxruntime reads its whole int-N matrices + float scales (+ int4 zero points).
    const ortBytes =
      3 * d * ffn * (bits / 8) + 3 * ffn * Math.ceil(d / blockSize) * (4 + (bits === 4 ? 0.5 : 0));
    const bytes = v.name.startsWith("ort") ? ortBytes : (info.bytes / 3) * (1 + 2 * frac);
    return [
      v.name,
      {
        median_ms: +q(s, 0.5).toFixed(4),
        p10_ms: +q(s, 0.1).toFixed(4),
        p90_ms: +q(s, 0.9).toFixed(4),
        samples: s.length,
        active_fraction: +frac.toFixed(4),
        mbytes_read: +(bytes / 1e6).toFixed(2),
        gbps_at_median: +(bytes / q(s, 0.5) / 1e6).toFixed(1),
      },
    ];
  }),
);
const med = (n: string) => results[n].median_ms;

// Per-call cost and pool behaviour, medians of 2000 calls per mode:
//  tiny   (d = ffn = 256, L2-resident, ~10 µs): the fixed cost (activation quantization, N-API,
//         reduction); a sleeping worker cannot wake in time to help.
//  medium (d = 2048, ffn = 512, L3-resident, ~0.1 ms): whether the second thread pays off when its
//         worker sleeps between calls vs spins 200 µs first, and what runAsync adds.
const overhead: Record<string, Record<string, number>> = {};
for (const [size, dd, ff] of [
  ["tiny", 256, 256],
  ["medium", 2048, 512],
] as const) {
  const f = kernel.createFfn({ ...randomFfn(dd, ff, 3), bits, blockSize, threads });
  const [x, y] = [randomInput(dd, 1), new Float32Array(dd)];
  const modes = [
    { name: "threads1", t: 1, spin: 0, async: false },
    { name: `threads${threads}_sleep`, t: threads, spin: 0, async: false },
    { name: `threads${threads}_spin200us`, t: threads, spin: 200, async: false },
    { name: `threads${threads}_sleep_runAsync`, t: threads, spin: 0, async: true },
  ];
  const samples = modes.map(() => [] as number[]);
  // Blocks of 100 calls per mode (so a spinning worker is spinning when the next call comes),
  // modes rotating block by block so background load hits them alike.
  for (let block = 0; block < 20 * modes.length; block++) {
    const m = block % modes.length;
    kernel.setSpinMicros(modes[m].spin);
    f.setThreads(modes[m].t);
    for (let i = 0; i < 100; i++) {
      const t0 = process.hrtime.bigint();
      if (modes[m].async) await f.runAsync(x, y, 0);
      else f.run(x, y, 0);
      samples[m].push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  }
  overhead[size] = Object.fromEntries(
    modes.map((m, i) => [
      m.name,
      +q(
        samples[i].sort((u, v) => u - v),
        0.5,
      ).toFixed(1),
    ]),
  );
  f.close();
}
kernel.setSpinMicros(Number(a.spin));

/** Transparent huge pages backing this process (the kernel asks for them on its weight buffers). */
function hugePagesMB(): number | null {
  try {
    const m = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
const report = {
  command: `npx tsx tools/bench-kernel.ts ${process.argv.slice(2).join(" ")}`.trim(),
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    loadavg_before: load0.map((x) => +x.toFixed(2)),
    loadavg_after: os.loadavg().map((x) => +x.toFixed(2)),
  },
  config: {
    d,
    ffn,
    bits,
    blockSize,
    threads,
    layers,
    rounds,
    iters,
    spinMicros: Number(a.spin),
    isa: info.isa,
    order: info.order,
    bytesPerLayer: info.bytes,
  },
  create_ms: createMs.map((x) => +x.toFixed(1)),
  anon_huge_pages_mb: hugePagesMB(),
  call_overhead_us_median: overhead,
  read_bandwidth_probe_gbps: {
    median: +q(
      [...probes].sort((x, y) => x - y),
      0.5,
    ).toFixed(1),
    max: +Math.max(...probes).toFixed(1),
  },
  thresholds,
  accuracy_vs_float64: { native_dense: +errNative.toFixed(5), ort_matmulnbits: +errOrt.toFixed(5) },
  results,
  ratios: {
    native_dense_over_ort_spin0: +(med("native_dense") / med("ort_matmulnbits_spin0")).toFixed(3),
    native_dense_over_ort_best: +(
      med("native_dense") / Math.min(med("ort_matmulnbits_spin0"), med("ort_matmulnbits_spin1"))
    ).toFixed(3),
    active75_over_dense: +(med("native_active75") / med("native_dense")).toFixed(3),
    active50_over_dense: +(med("native_active50") / med("native_dense")).toFixed(3),
    active25_over_dense: +(med("native_active25") / med("native_dense")).toFixed(3),
  },
};
const json = JSON.stringify(report, null, 2);
if (a.out) writeFileSync(a.out, json);
console.log(json);
for (const f of ffns) f.close();
await Promise.all([...ortSpin0, ...ortSpin1].map((s) => s.release()));
