// A model ready to talk: runner + decoder + tokenizer (+ early exit once calibrated).
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { TextTokenizer } from "../tokenizer/text-tokenizer.js";
import { chatTemplateFor, encodeChat, type ChatMessage } from "../tokenizer/chat-template.js";
import { ModelRunner, type LoadOptions } from "../runtime/model-runner.js";
import { Decoder } from "../runtime/decoder.js";
import { generate, type GenerateOptions, type GenerationTokenizer } from "../runtime/generate.js";
import type { SamplingParams } from "../runtime/sampler.js";
import type { SpeculationOptions } from "../runtime/speculative.js";
import { DraftTable, type DraftTableData } from "../runtime/draft-table.js";
import { evaluate, type EvalExit } from "./evaluate.js";
import { ExitController } from "../early-exit/exit-controller.js";
import { GREEDY } from "../early-exit/calibration-data.js";
import { NativeUnavailableError } from "../runtime/native-layers.js";
import { knobUsesSparsity, sparsityForKnob } from "../runtime/knob.js";
import { readManifest } from "../package/models-dir.js";
import type { Manifest } from "../package/manifest.js";
import { loadNativeKernels } from "../kernels/index.js";
import { resolvePackage } from "../package/models-dir.js";
import { ContextFullError } from "../runtime/kv-cache.js";
import { GrammarSupport, type TokenConstraint } from "../runtime/grammar/token-constraint.js";
import { grammarVocabulary } from "../runtime/grammar/vocabulary.js";
import type { OutputConstraint } from "../../wire/structured.js";
import { answerReserve, fitMessages, fitRaw, type FittedMessages, type Overflow } from "./context-fit.js";

export interface LoadModelOptions extends Partial<LoadOptions> {
  modelsDir: string;
}

export class LoadedModel {
  readonly decoder: Decoder;
  /** The exit policy's draft table, built once per policy. */
  private habits: { data: DraftTableData; table: DraftTable } | null = null;
  /** Constrained decoding's view of this vocabulary, built on first use (a few hundred ms). */
  private grammars: Promise<GrammarSupport> | null = null;
  readonly generationTokenizer: GenerationTokenizer;

  /** Early exit for this model, when it has been calibrated (null otherwise). */
  exit: ExitController | null = null;

  private constructor(
    readonly runner: ModelRunner,
    readonly tokenizer: TextTokenizer,
  ) {
    this.decoder = new Decoder(runner);
    this.generationTokenizer = {
      eosIds: tokenizer.eos,
      createStreamDecoder: () => tokenizer.createStreamDecoder(),
    };
  }

  static async load(idOrPath: string, o: LoadModelOptions): Promise<LoadedModel> {
    const dir = await resolvePackage(o.modelsDir, idOrPath);
    const options = {
      threads: o.threads ?? defaultThreads(),
      executionProvider: o.executionProvider ?? "cpu",
      contextLength: o.contextLength ?? 4096,
      onProgress: o.onProgress,
    };
    // The native kernels by default when the package has its native form and the addon loads (FFN
    // sparsity stays 0 until calibrated); otherwise, or if asked, onnxruntime runs every layer.
    let runner: ModelRunner;
    let unavailable: string | undefined;
    const manifest = await readManifest(dir);
    const wantNative = o.native ?? (!!manifest.native && loadNativeKernels().available);
    // The FFNs' per-neuron rows only where the knob uses sparsity (or the caller asks: explicit
    // sparsity, threshold calibration); otherwise their packed form alone, one copy of the weights.
    const sparseRows = o.sparseRows ?? knobUsesSparsity(manifest.native?.thresholds);
    const oneCopy = manifest.graphs.layers.length === 0;
    if (oneCopy && !wantNative) {
      const kernels = loadNativeKernels();
      throw needsNativeKernels(
        manifest,
        o.native === false
          ? "they were switched off for this load"
          : kernels.available
            ? "no native form"
            : kernels.detail,
      );
    }
    try {
      runner = await ModelRunner.load(dir, { ...options, native: wantNative, sparseRows }, manifest);
    } catch (err) {
      if (!(err instanceof NativeUnavailableError) || o.native === true) throw err;
      // A one-copy package has no onnxruntime form to fall back on.
      if (oneCopy) throw needsNativeKernels(manifest, err.message);
      unavailable = err.message;
      runner = await ModelRunner.load(dir, { ...options, native: false }, manifest);
    }
    const m = runner.manifest;
    const [json, config] = await Promise.all([
      readFile(path.join(dir, m.tokenizer.file), "utf8"),
      readFile(path.join(dir, m.tokenizer.configFile), "utf8"),
    ]);
    const model = new LoadedModel(runner, new TextTokenizer(JSON.parse(json), JSON.parse(config)));
    model.exit = await ExitController.forModel(model);
    model.nativeNotice = model.runner.native?.runsEverything
      ? undefined
      : o.native === false
        ? "the native kernels were switched off for this load"
        : whyNotNative(manifest, unavailable);
    return model;
  }

  /**
   * Why the native kernels do not run this model's whole layers (onnxruntime does, slower), in
   * words for the app and the CLI; undefined when they do.
   */
  nativeNotice: string | undefined;

  /**
   * Applies the speed/accuracy knob before a token: sets the FFN sparsity (unless pinned by
   * `sparsityOverride`) and returns the early-exit strategy (undefined = full depth).
   */
  applyKnob(knob: number, sparsityOverride?: number, o: { fullLogits?: boolean } = {}) {
    const sparse = this.runner.native;
    sparse?.setSparsity(sparsityOverride ?? sparsityForKnob(knob, sparse.table));
    return knob > 0 ? this.exit?.strategyFor(knob, o) : undefined;
  }

  /** The exit strategy at `knob` (undefined = full depth), with its telemetry, for evaluate(). */
  exitAt(knob: number | undefined): EvalExit | undefined {
    if (knob === undefined || !(knob > 0)) return undefined;
    if (!this.exit)
      throw new Error(`model ${this.manifest.id} is not calibrated for early exit (run calibrate first)`);
    const strategy = this.exit.strategyFor(knob)!;
    return {
      strategy,
      scoringStrategy: this.exit.strategyFor(knob, { fullLogits: true }),
      takeTelemetry: () => this.exit!.takeTelemetry(),
    };
  }

  /** Pins the FFN sparsity (0..1) regardless of the knob; requires the sparse form. */
  setSparsity(level: number): void {
    if (!this.runner.native) {
      throw new Error(
        this.nativeNotice ??
          `model ${this.manifest.id} is not loaded with sparse FFNs (import it where the native kernel is built)`,
      );
    }
    this.runner.native.setSparsity(level);
  }

  get manifest() {
    return this.runner.manifest;
  }

  /** BOS (when the model wants one) + the tokenized text: no chat template. */
  encodeRaw(text: string): number[] {
    const ids = this.tokenizer.encode(text, { addBos: false });
    return this.tokenizer.bos !== undefined && this.tokenizer.addBos !== false
      ? [this.tokenizer.bos, ...ids]
      : ids;
  }

  /** Messages rendered with the model's chat template (or the plain fallback) and tokenized. */
  encodeChat(messages: readonly ChatMessage[], tools?: readonly unknown[]): number[] {
    return encodeChat(this.tokenizer, messages, tools ? { tools } : {});
  }

  /**
   * Text that ends an answer besides the end-of-generation tokens: with the plain fallback
   * template a base model would otherwise go on to write the user's next turn.
   */
  stopStrings(): string[] {
    return chatTemplateFor(this.tokenizer).fallback ? ["\nUser:", "\nAssistant:"] : [];
  }

  /** Replaces the exit policy with the package's current one (after a calibration), from the next token on. */
  async reloadCalibration(): Promise<void> {
    const manifest = await readManifest(this.runner.dir);
    this.runner.manifest.calibration = manifest.calibration;
    const old = this.exit;
    this.exit = await ExitController.forModel(this);
    old?.close();
  }

  /** Lossless decoding measured faster than full depth here (at calibration) and can run exactly. */
  losslessPays(): boolean {
    const measured = this.manifest.calibration?.lossless?.speedup ?? 0;
    return measured >= 1.05 && !!this.runner.native?.decodesNatively;
  }

  /**
   * Options for lossless speculative decoding on this model. It needs the native decode path: only
   * there does a batched verification pass reproduce one-token steps bit for bit.
   */
  speculationOptions(): SpeculationOptions {
    if (!this.runner.native?.decodesNatively) {
      throw new Error(
        `lossless decoding needs the native kernels (${this.nativeNotice ?? (this.runner.native ? `model ${this.manifest.id} was imported before they ran whole layers; import it again` : "not loaded")})`,
      );
    }
    const self = this.exit?.policy.lossless.selfDraft;
    const exit = this.exit;
    const table = exit?.policy.lossless.table;
    if (table && this.habits?.data !== table)
      this.habits = { data: table, table: DraftTable.fromData(table, this.runner.config.vocabSize) };
    return {
      table: table ? this.habits!.table : null,
      selfDraft:
        self && exit
          ? {
              layers: self.layer,
              minConfidence: self.minConfidence,
              propose: (h) => exit.propose(h, self.layer),
            }
          : null,
    };
  }

  /**
   * Runs short untimed answers for up to `budgetMs`, then forgets them. V8 optimizes the per-token
   * JavaScript around the kernels only once it has run a while: on a small model the first answers
   * after a load ran at about 0.6x of the later ones (kjv16: ~2,500 against ~4,100 tok/s). A large
   * model spends the budget on a token or two and loses nothing.
   */
  async warmUp(budgetMs = 300): Promise<void> {
    const until = performance.now() + budgetMs;
    try {
      const text = this.tokenizer.encode("The first words of a warm-up.", { addBos: false });
      const promptIds = this.tokenizer.bos === undefined ? text : [this.tokenizer.bos, ...text];
      const maxTokens = Math.min(96, this.decoder.runner.maxPositions - promptIds.length - 1);
      for (
        let pass = 0;
        pass < 3 && promptIds.length > 0 && maxTokens > 0 && performance.now() < until;
        pass++
      ) {
        const tokens = this.generate({ promptIds, maxTokens, ignoreEos: true, sampling: GREEDY });
        for await (const _ of tokens) if (performance.now() > until) break;
        this.decoder.reset();
      }
    } catch {
      // Only a head start: a model that cannot answer this says so on its first real answer.
      this.decoder.reset();
    }
  }

  /** Constrained decoding for one answer (an unsupported schema throws UnsupportedSchemaError). */
  async constraint(c: OutputConstraint): Promise<TokenConstraint> {
    this.grammars ??= GrammarSupport.create(grammarVocabulary(this.tokenizer, this.runner.config.vocabSize));
    this.grammars.catch(() => (this.grammars = null));
    return (await this.grammars).constraint(c);
  }

  /** Tokens from a prompt of ids (benchmarks, calibration); the exit machinery's telemetry comes with each token. */
  generate(o: GenerateOptions) {
    this.exit?.reset();
    return generate(this.decoder, this.generationTokenizer, {
      takeTelemetry: () => this.exit?.takeTelemetry() ?? null,
      ...o,
    });
  }

  /**
   * One chat turn, the way the app and the CLI both run it: the messages through the model's chat
   * template (or a raw prompt), its stop strings, the knob read before every token (it may move
   * mid-answer), exact speculative decoding when asked, and the stats at the end.
   */
  chat(turn: ChatTurn) {
    const { ids: promptIds, dropped } = this.fitPrompt(turn);
    const lossless =
      turn.lossless === "always" ||
      (turn.lossless === "where-it-pays" && turn.knob() === 0 && this.losslessPays());
    const tokens = this.generate({
      promptIds,
      maxTokens: turn.maxTokens,
      sampling: turn.sampling,
      stop: [...("prompt" in turn ? [] : this.stopStrings()), ...(turn.stop ?? [])],
      ignoreEos: turn.ignoreEos,
      signal: turn.signal,
      exitStrategy: () =>
        // A constraint may allow only tokens outside an exit's shortlist: it needs every logit.
        this.applyKnob(turn.knob(), turn.sparsity, {
          fullLogits: turn.sampling.temperature > 0 || !!turn.constraint,
        }),
      ...(lossless ? { speculation: this.speculationOptions() } : {}),
      ...(turn.constraint ? { constraint: () => this.constraint(turn.constraint!) } : {}),
    });
    if (!dropped) return withDropped(tokens, {});
    return withDropped(tokens, "prompt" in turn ? { droppedTokens: dropped } : { droppedMessages: dropped });
  }

  /**
   * The turn's prompt ids. With overflow "drop-oldest" the oldest turns (a base model's oldest
   * tokens) give way until the prompt leaves room for the answer; otherwise a prompt that does not
   * fit is the decoder's error, as before.
   */
  private fitPrompt(turn: ChatTurn): FittedMessages {
    const context = this.decoder.runner.maxPositions;
    const budget = context - answerReserve(turn.maxTokens, context);
    if ("prompt" in turn) {
      const ids = this.encodeRaw(turn.prompt);
      return turn.overflow === "drop-oldest" ? fitRaw(ids, budget, this.tokenizer.bos) : { ids, dropped: 0 };
    }
    if (turn.overflow !== "drop-oldest")
      return { ids: this.encodeChat(turn.messages, turn.tools), dropped: 0 };
    const fitted = fitMessages(turn.messages, (m) => this.encodeChat(m, turn.tools), budget);
    if (!fitted)
      throw new ContextFullError(
        `the system prompt and the last message alone do not leave room for an answer in the ${context}-token context`,
      );
    return fitted;
  }

  evaluate(ids: readonly number[], exit?: EvalExit) {
    return evaluate(this.decoder, ids, exit);
  }

  dispose(): Promise<void> {
    this.exit?.close();
    return this.runner.dispose();
  }
}

export type ChatTurn = (
  { messages: readonly ChatMessage[] } | { /** Text without the chat template. */ prompt: string }
) & {
  sampling: SamplingParams;
  maxTokens: number;
  /** Strings that end the answer, besides the template's own. */
  stop?: readonly string[];
  /** What happens when the conversation outgrows the context (default "stop": the decoder's error). */
  overflow?: Overflow;
  /** The speed/accuracy knob, read before every token. */
  knob: () => number;
  /** Pins the FFN sparsity regardless of the knob. */
  sparsity?: number;
  /**
   * Lossless speculative decoding: always, never, or (the app's slider at 0) where calibration
   * measured it faster.
   */
  lossless?: "always" | "never" | "where-it-pays";
  ignoreEos?: boolean;
  signal?: AbortSignal;
  /** The answer must parse as this (constrained decoding). */
  constraint?: OutputConstraint;
  /** Function definitions for templates that describe tools to the model (`tools` in the template). */
  tools?: readonly unknown[];
};

export function defaultThreads(): number {
  // Physical cores are what matter for matmul; Node only sees logical CPUs, so assume SMT pairs
  // on machines with more than 4 and keep at least one core for the UI.
  const logical = os.availableParallelism();
  return Math.max(1, logical > 4 ? Math.floor(logical / 2) : logical);
}

/** The same tokens, with what was left out of the prompt added to the summary. */
async function* withDropped(
  tokens: ReturnType<typeof generate>,
  dropped: { droppedMessages?: number; droppedTokens?: number },
) {
  const summary = yield* tokens;
  return { ...summary, ...dropped };
}

/** Why a model runs on onnxruntime rather than the native kernels (`failure`: they would not open it). */
function whyNotNative(manifest: Manifest, failure: string | undefined): string {
  const kernels = loadNativeKernels();
  if (!kernels.available) return `the native kernels are not available here: ${kernels.detail}`;
  if (failure) return failure;
  if (manifest.quant === "f16" || manifest.quant === "f32")
    return `the native kernels run int8 and int4 models; this ${manifest.quant} package runs on onnxruntime`;
  if (!manifest.native) return "it was imported where the native kernels were not available: import it again";
  return "it was imported before the native kernels ran whole layers: import it again";
}

/** Why a one-copy package (the native kernels' form alone) cannot load here, and what to do. */
function needsNativeKernels(m: Manifest, reason: string): Error {
  return new Error(
    `${m.name} needs the native kernels (it holds only their form of its weights), which do not run here: ` +
      `${reason}. Import the model file again to get a form onnxruntime can run.`,
  );
}
