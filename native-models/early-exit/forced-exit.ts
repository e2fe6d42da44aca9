// A diagnostic strategy: every decode token exits right after layer `exitAfter` (1-based), so the
// cost of the exit machinery (head at that layer, K/V of skipped layers) can be measured at real
// sizes even on synthetic weights, whose predictors would never fire.
import type { ModelRunner } from "../runtime/model-runner.js";
import type { ExitStrategy } from "../runtime/decoder.js";

export type KvMode = ExitStrategy["kvMode"];

export function forcedExit(runner: ModelRunner, exitAfter: number, kvMode: KvMode): ExitStrategy {
  if (!Number.isInteger(exitAfter) || exitAfter < 1 || exitAfter > runner.layers) {
    throw new RangeError(`exit layer must be 1..${runner.layers}, got ${exitAfter}`);
  }
  return {
    kvMode,
    afterLayer: async (layer, hidden) => (layer === exitAfter - 1 ? runner.logits(hidden, 1) : null),
  };
}
