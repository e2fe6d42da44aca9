// What calibration and measurements need of a loaded model (engine/loaded-model.ts is one): its
// runner and decoder, plain encoding and generation. Declared here, below early-exit/ and sparse/,
// so that they can work on a model without importing the engine that assembles it.
import type { Decoder } from "./decoder.js";
import type { GenerateOptions, GenerationSummary, TokenEvent } from "./generate.js";
import type { ModelRunner } from "./model-runner.js";

export interface ModelTarget {
  readonly runner: ModelRunner;
  readonly decoder: Decoder;
  /** BOS (when the model wants one) + the tokenized text: no chat template. */
  encodeRaw(text: string): number[];
  generate(o: GenerateOptions): AsyncGenerator<TokenEvent, GenerationSummary>;
}
