// The numbers shown for an answer (token count, speed, first token, mean exit layer, share that
// left early), computed in one place so the message and the side panel can never disagree: both
// call answerStats with the store's current message, and a message object is summed up once.
import { earlyExitShare } from "./charts";
import { liveStats, type LiveStats } from "./streamProcessor";
import type { UiMessage } from "./types";

export interface AnswerStats extends LiveStats {
  /** Share of the tokens that left before the last layer (0..1). */
  earlyShare: number;
  /** The layer count to draw against: the model's, else the deepest exit seen. */
  chartLayers: number;
}

// Messages are immutable (every token makes a new object), so a message's stats never change.
const computed = new WeakMap<UiMessage, AnswerStats>();

export function answerStats(message: UiMessage): AnswerStats {
  const known = computed.get(message);
  if (known) return known;
  const live = liveStats(message);
  let deepest = 1;
  for (const l of message.exitLayers) if (l > deepest) deepest = l;
  const chartLayers = live.layers || deepest;
  const stats = { ...live, earlyShare: earlyExitShare(message.exitLayers, chartLayers), chartLayers };
  computed.set(message, stats);
  return stats;
}
