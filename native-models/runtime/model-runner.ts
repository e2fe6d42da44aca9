// A loaded model package, run layer by layer (so the loop may stop after any layer): the
// embedding lookup in JS, the layers and the head in the native kernels where the package has
// their native form and the addon loads, else one onnxruntime session per layer and the head
// session; and a preallocated KV cache per layer, updated in place by either.
import path from "node:path";
import type * as ort from "onnxruntime-node";
import type { ModelConfig } from "../formats/model-source.js";
import type { Manifest } from "../package/manifest.js";
import { readManifest } from "../package/models-dir.js";
import { rotaryCaches } from "../convert/rotary.js";
import { layerRope } from "../formats/model-source.js";
import { softcapInPlace } from "./softcap.js";
import { LAYER_IO } from "../convert/layer-graph.js";
import { MatrixRows, readFloats, type RowSource } from "./stored-matrix.js";
import { createSessions, type ProviderChoice, type SessionOptions } from "./sessions.js";
import { KvCache } from "./kv-cache.js";
import { loadOnnxRuntime, type OnnxRuntime } from "./onnx-runtime.js";
import { keptFileLayout } from "./kept-file-layout.js";
import { NATIVE_MAX_ROWS, NativeLayers } from "./native-layers.js";
import type { NativeLinear } from "../kernels/types.js";

export interface LoadOptions extends SessionOptions {
  /** KV cache length in tokens; capped at the model's own context length. */
  contextLength: number;
  onProgress?: (fraction: number) => void;
  /**
   * Use the native kernels (the FFNs, and whole layers and the head, when the package has them);
   * otherwise onnxruntime runs everything.
   */
  native?: boolean;
  /** With native kernels: keep the FFNs' per-neuron rows for sparse passes (see NativeLayers.open). */
  sparseRows?: boolean;
}

export class ModelRunner {
  readonly config: ModelConfig;
  readonly layers: number;
  private lmHeadRows?: RowSource & { close?(): void };
  private finalNorm?: Float32Array;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    /** onnxruntime's layer graphs; none when the native kernels run everything. */
    private readonly layerSessions: ort.InferenceSession[],
    private readonly headSession: ort.InferenceSession | null,
    readonly embedding: MatrixRows,
    readonly cache: KvCache,
    /** Per layer (Gemma 3's local and global layers have their own bases; shared objects otherwise). */
    private readonly rotary: { cos: Float32Array; sin: Float32Array }[],
    /** Loaded only where onnxruntime runs a layer or the head. */
    private readonly ort: OnnxRuntime | null,
    readonly provider: ProviderChoice,
    private readonly options: LoadOptions,
    /** Set when the native kernels run the FFNs (layerSessions are then attention-only) and decode. */
    readonly native: NativeLayers | null,
  ) {
    this.config = manifest.config;
    this.layers = manifest.config.numLayers;
  }

  /** `manifest`: the package's manifest when the caller has already read it. */
  static async load(dir: string, o: LoadOptions, known?: Manifest): Promise<ModelRunner> {
    const manifest = known ?? (await readManifest(dir));
    const cfg = manifest.config;
    // Progress: the native files, then onnxruntime's sessions if any (packages with packed FFN
    // files usually need none; otherwise the sessions take most of the time).
    const nativeShare = manifest.native?.dense || manifest.native?.kept ? 0.9 : 0.3;
    const kept =
      o.native && manifest.native?.kept ? await keptFileLayout(dir, manifest, o.threads) : undefined;
    const native = o.native
      ? NativeLayers.open(dir, manifest, o.threads, {
          sparseRows: o.sparseRows ?? false,
          onProgress: (f) => o.onProgress?.(f * nativeShare),
          kept,
        })
      : null;
    // With whole native layers, the head and the packed FFNs, prefill runs natively too and no
    // onnxruntime session is created (one copy of the weights in memory). Native layers whose FFNs
    // keep only their per-neuron rows (a wide model where sparsity pays) prefill on onnxruntime's
    // full layer graphs, since those rows serve one token at a time (measured on TinyLlama shapes:
    // 210 vs 42 tok/s); packages whose native form is only the FFN keep its attention graphs.
    let layerGraphs: string[] = [];
    if (!native?.runsEverything && manifest.graphs.layers.length === 0) {
      native?.close();
      throw new Error(
        `${manifest.name} holds only the native kernels' form of its weights (one copy), and ` +
          `${native ? "that form is incomplete" : "the native kernels do not run here"}: ` +
          "import the model file again to get a form onnxruntime can run",
      );
    }
    if (!native?.runsEverything)
      layerGraphs = !native || native.decodesNatively ? manifest.graphs.layers : manifest.graphs.attention;
    const files = [...layerGraphs, ...(native?.head ? [] : [manifest.graphs.head])].map((f) =>
      path.join(dir, f),
    );
    const { sessions, choice } = files.length
      ? await createSessions(files, o, (done, total) =>
          o.onProgress?.(
            (native ? nativeShare : 0) + (1 - (native ? nativeShare : 0)) * (done / (total + 1)),
          ),
        )
      : { sessions: [], choice: { provider: "cpu" } satisfies ProviderChoice };
    const head = native?.head ? null : sessions.pop()!;
    const runtime = files.length ? await loadOnnxRuntime() : null;
    const embedding = new MatrixRows(dir, manifest.embedding);
    const maxPositions = Math.max(16, Math.min(o.contextLength, cfg.contextLength));
    const tables = new Map<string, { cos: Float32Array; sin: Float32Array }>();
    const rotary = Array.from({ length: cfg.numLayers }, (_, l) => {
      const { theta, scaling } = layerRope(cfg, l);
      const key = JSON.stringify([theta, scaling]);
      let t = tables.get(key);
      if (!t) {
        t = rotaryCaches(maxPositions, { ...cfg, ropeTheta: theta, ropeScaling: scaling });
        tables.set(key, t);
      }
      return t;
    });
    // onnxruntime's graphs take float caches; the native kernels alone take halves.
    const cache = new KvCache(
      cfg.numLayers,
      cfg.numKvHeads,
      cfg.headDim,
      maxPositions,
      !!native?.runsEverything,
    );
    o.onProgress?.(1);
    return new ModelRunner(
      dir,
      manifest,
      sessions,
      head,
      embedding,
      cache,
      rotary,
      runtime,
      choice,
      o,
      native,
    );
  }

  /** Which kernels run the layers, in words (for bench and the engine's load reply). */
  get kernels(): string {
    const n = this.native;
    if (!n) return "onnxruntime MatMulNBits";
    if (n.runsEverything) return `native ${n.isa}`;
    return n.decodesNatively
      ? `native ${n.isa} decode, onnxruntime MatMulNBits prefill`
      : `onnxruntime MatMulNBits + native ${n.isa} FFN`;
  }

  /** Threads the kernels use per call. */
  get threads(): number {
    return this.options.threads;
  }

  get maxPositions(): number {
    return this.cache.maxPositions;
  }

  embed(ids: readonly number[]): Float32Array {
    const rows = this.embedding.gather(ids);
    // Gemma scales its embeddings by √hidden (the tied LM head uses them unscaled).
    const scale = this.config.embedScale;
    if (scale) for (let i = 0; i < rows.length; i++) rows[i] *= scale;
    return rows;
  }

  /**
   * Runs decoder layer `l` on `hidden` ([S, d]) at `positions`, appending their K/V to the layer's
   * cache. Decode rows (`decode`: a token or a few being verified) run natively when the package
   * has native layers, at the current FFN sparsity; prefill rows run dense, natively when the
   * native form is complete (runsEverything), else on onnxruntime. `out` (S x d, not `hidden`):
   * where the rows go, so that a prefill can alternate two buffers instead of leaving one garbage
   * array per layer (at 128 rows of TinyLlama, 22 MB a prefill that V8 frees only at its next
   * collection); absent, a new array.
   */
  async layer(
    l: number,
    hidden: Float32Array,
    positions: readonly number[],
    decode = false,
    out?: Float32Array,
  ): Promise<Float32Array> {
    return (
      this.layerNow(l, hidden, positions, decode, out) ?? this.onnxLayer(l, hidden, positions, decode, out)
    );
  }

  /**
   * `layer` without a promise where the rows run natively (null where onnxruntime must run them):
   * a decode step calls this once per layer, and at small sizes the awaits around a layer cost
   * a measurable share of the layer itself.
   */
  layerNow(
    l: number,
    hidden: Float32Array,
    positions: readonly number[],
    decode = false,
    out?: Float32Array,
  ): Float32Array | null {
    const S = positions.length;
    const native = this.native;
    if (!(native?.decodesNatively && ((decode && S <= NATIVE_MAX_ROWS) || native.runsEverything)))
      return null;
    const d = this.config.hiddenSize;
    const slot = this.cache.reserve(l, positions);
    // Rows [s0, s0 + n) in one native call (at most NATIVE_MAX_ROWS).
    const dest = out ?? new Float32Array(S * d);
    const rows = (s0: number, n: number) => {
      const kv = {
        keyData: slot.keyData,
        valueData: slot.valueData,
        capacity: this.cache.maxPositions,
        cached: slot.total - S + s0,
      };
      return native.decodeLayer(
        l,
        hidden.subarray(s0 * d, (s0 + n) * d),
        Int32Array.from(positions.slice(s0, s0 + n)),
        this.rotary[l],
        kv,
        dest.subarray(s0 * d, (s0 + n) * d),
        decode,
      );
    };
    for (let s0 = 0; s0 < S; s0 += NATIVE_MAX_ROWS) rows(s0, Math.min(NATIVE_MAX_ROWS, S - s0));
    return dest;
  }

  private async onnxLayer(
    l: number,
    hidden: Float32Array,
    positions: readonly number[],
    decode: boolean,
    dest?: Float32Array,
  ): Promise<Float32Array> {
    const S = positions.length;
    const d = this.config.hiddenSize;
    const slot = this.cache.reserve(l, positions);
    const out = dest ?? new Float32Array(S * d);
    // Native FFN: the attention graph hands back the FFN input and the residual (into `out`).
    const ffnInput = this.native && !this.native.decodesNatively ? new Float32Array(S * d) : null;
    const rt = this.ort!;
    const f32 = (data: Float32Array, dims: number[]) => new rt.Tensor("float32", data, dims);
    const fetches: Record<string, ort.Tensor> = ffnInput
      ? { [LAYER_IO.ffnInput]: f32(ffnInput, [1, S, d]), [LAYER_IO.residual]: f32(out, [1, S, d]) }
      : { [LAYER_IO.hiddenOut]: f32(out, [1, S, d]) };
    // One tensor over each cache buffer, fed as the past and fetched as the present: in place.
    const kvDims = [1, this.cache.kvHeads, this.cache.maxPositions, this.cache.headDim];
    if (!(slot.keyData instanceof Float32Array) || !(slot.valueData instanceof Float32Array))
      throw new Error("onnxruntime's layer graphs need a float KV cache (this one holds halves)");
    const key = f32(slot.keyData, kvDims);
    const value = f32(slot.valueData, kvDims);
    const half = this.config.headDim / 2;
    await this.layerSessions[l].run(
      {
        [LAYER_IO.hidden]: f32(hidden, [1, S, d]),
        [LAYER_IO.positionIds]: new rt.Tensor("int64", BigInt64Array.from(positions, BigInt), [1, S]),
        [LAYER_IO.pastKey]: key,
        [LAYER_IO.pastValue]: value,
        [LAYER_IO.seqlensK]: new rt.Tensor("int32", Int32Array.of(slot.total - 1), [1]),
        [LAYER_IO.totalSeqLen]: new rt.Tensor("int32", Int32Array.of(slot.total), []),
        [LAYER_IO.cos]: f32(this.rotary[l].cos, [this.cache.maxPositions, half]),
        [LAYER_IO.sin]: f32(this.rotary[l].sin, [this.cache.maxPositions, half]),
      },
      { ...fetches, [LAYER_IO.presentKey]: key, [LAYER_IO.presentValue]: value },
    );
    if (ffnInput) this.native!.addFfn(l, ffnInput, out, S, decode);
    return out;
  }

  /**
   * Final norm + LM head on the last `rows` rows of `hidden`; returns logits [rows, vocab], in
   * `out` where given and the native head runs.
   */
  async logits(hidden: Float32Array, rows = 1, out?: Float32Array): Promise<Float32Array> {
    const d = this.config.hiddenSize;
    const S = hidden.length / d;
    const input = rows === S ? hidden : hidden.subarray((S - rows) * d);
    if (this.native?.head)
      return softcapInPlace(
        this.native.logits(input, rows, this.config.vocabSize, out),
        this.config.finalLogitSoftcap,
      );
    const r = await this.headSession!.run({
      [LAYER_IO.hidden]: new this.ort!.Tensor("float32", input, [1, rows, d]),
    });
    return r.logits.data as Float32Array;
  }

  /**
   * Rows of the LM head (for the reduced head of early-exit checks), loaded on first use: from
   * the package's rows file, or (packages that hold the head once) from the native head itself.
   */
  headRows(): { rows: RowSource; finalNorm: Float32Array } {
    this.lmHeadRows ??= this.manifest.lmHead
      ? new MatrixRows(this.dir, this.manifest.lmHead)
      : nativeHeadRows(this.native?.head ?? null);
    this.finalNorm ??= readFloats(this.dir, this.manifest.finalNorm);
    return { rows: this.lmHeadRows, finalNorm: this.finalNorm };
  }

  async dispose(): Promise<void> {
    const all = [...this.layerSessions, ...(this.headSession ? [this.headSession] : [])];
    await Promise.all(all.map((s) => s.release()));
    this.native?.close();
    this.embedding.close();
    this.lmHeadRows?.close?.();
  }
}

/** The LM head's rows read from the native head (a package without a rows file of its own). */
function nativeHeadRows(head: NativeLinear | null): RowSource {
  if (!head)
    throw new Error("this package keeps the LM head only in the native kernels' form, which did not load");
  return { row: (id, out, offset) => out.set(head.rows(Int32Array.of(id)), offset) };
}
