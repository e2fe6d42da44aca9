// Soak: many short generations back to back through the contract (dispatcher, services, SQLite, the
// real engine host with stories260K), with random Stop and random knob values, some of them
// mid-answer. After every answer nothing may be left behind: no running answer, no unanswered
// engine request, no token buffer, no stuck conversation. The engine host's resident memory
// (VmRSS) is sampled along the way.
import type { Conversation, EventOf } from "../../electron/contract.js";
import { rng } from "../../native-models/test-support/ggml-blocks.js";
import { rssKiB, sampling, startRealBackend } from "../../electron/test-support/real-backend.js";

export interface SoakOptions {
  generations: number;
  seed?: number;
  /** Sample RSS every this many generations (default 10; always at 1, 50 and the last). */
  rssEvery?: number;
  /** An answer not done within this is a stuck state (default 15 s). */
  stuckMs?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  generations: number;
  tokens: number;
  stopReasons: Record<string, number>;
  /** Stops requested, and how many of them the engine confirmed. */
  stopsRequested: number;
  stopsConfirmed: number;
  knobChanges: number;
  knobChangesMidAnswer: number;
  /** Engine host VmRSS in KiB at generation n (1-based). */
  rss: Array<{ generation: number; kib: number }>;
  rssFirst: number;
  rss50: number | null;
  rssLast: number;
  /** (last - 50th) / 50th; null with fewer than 50 generations. */
  growthFrom50: number | null;
  /** The most engine requests ever waiting at once, and what was left after each answer. */
  maxPending: number;
  leftoverAfterAnswers: number;
  /** Answers that did not end within stuckMs. */
  stuck: number;
  msPerGeneration: number;
  ms: number;
}

type Token = EventOf<"generation.token">;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const r = rng(o.seed ?? 1);
  const every = o.rssEvery ?? 10;
  const stuckMs = o.stuckMs ?? 15_000;
  // onnxruntime's layers: the native kernels finish a 16-token stories260K answer in a few
  // milliseconds, before a stop sent after its k-th token could arrive. The package in
  // onnxruntime's form too: the native one-copy import holds only the kernels' form.
  const b = await startRealBackend({
    record: false,
    hostEnv: { EXITLANE_NATIVE: "off" },
    storiesForm: "onnx",
  });
  const { engine, generation, conversations } = b.backend.services;
  const report: SoakReport = {
    generations: 0,
    tokens: 0,
    stopReasons: {},
    stopsRequested: 0,
    stopsConfirmed: 0,
    knobChanges: 0,
    knobChangesMidAnswer: 0,
    rss: [],
    rssFirst: 0,
    rss50: null,
    rssLast: 0,
    growthFrom50: null,
    maxPending: 0,
    leftoverAfterAnswers: 0,
    stuck: 0,
    msPerGeneration: 0,
    ms: 0,
  };
  const pendingProbe = setInterval(
    () => (report.maxPending = Math.max(report.maxPending, engine.pendingCount)),
    1,
  );
  let chat: Conversation | null = null;
  try {
    const hostPid = engine.pid;
    for (let n = 1; n <= o.generations; n++) {
      if (!chat || n % 8 === 1) chat = await b.call<Conversation>("chat.create", { title: `Soak ${n}` });
      const maxTokens = 8 + Math.floor(r() * 9);
      await b.call("chat.update", { id: chat.id, sampling: sampling(maxTokens, { seed: n }) });
      if (r() < 0.5) {
        await b.call("generation.setKnob", { value: Math.round(r() * 100) / 100 });
        report.knobChanges++;
      }
      // What happens during this answer: maybe a stop after k tokens, maybe a knob change after j.
      const stopAfter = r() < 0.3 ? Math.floor(r() * maxTokens) : -1;
      const knobAfter = r() < 0.3 ? Math.floor(r() * maxTokens) : -1;
      const knobValue = Math.round(r() * 100) / 100;
      const conversationId = chat.id;
      let messageId = "";
      let seen = 0;
      const actions: Array<Promise<unknown>> = [];
      const act = (k: number) => {
        if (k === stopAfter) {
          report.stopsRequested++;
          actions.push(
            b
              .call<{ stopped: boolean }>("chat.stop", { conversationId })
              .then((x) => x.stopped && report.stopsConfirmed++),
          );
        }
        if (k === knobAfter) {
          report.knobChanges++;
          report.knobChangesMidAnswer++;
          actions.push(b.call("generation.setKnob", { value: knobValue }));
        }
      };
      const off = b.backend.events.subscribe((event, payload) => {
        if (event !== "generation.token" || (payload as Token).messageId !== messageId) return;
        seen++;
        act(seen);
      });
      const done = b.next("generation.done", (d) => d.conversationId === conversationId, stuckMs);
      try {
        ({ assistantMessageId: messageId } = await b.call<{ assistantMessageId: string }>("chat.send", {
          conversationId,
          text: `Tell me about the ${["cat", "dog", "ball", "tree", "sun"][n % 5]} number ${n}`,
        }));
        act(0);
        const { stats, error } = await done.catch((error: Error) => {
          report.stuck++;
          throw new Error(`generation ${n} is stuck: ${error.message}`);
        });
        report.stopReasons[stats.stopReason] = (report.stopReasons[stats.stopReason] ?? 0) + 1;
        report.tokens += stats.tokens;
        if (stats.stopReason === "error" || stats.stopReason === "interrupted")
          throw new Error(`generation ${n} ended with ${stats.stopReason}: ${error}`);
      } finally {
        off();
      }
      await Promise.all(actions);
      const leftover = engine.pendingCount + generation.runningCount + conversations.streamingCount;
      if (leftover || generation.isGenerating(conversationId)) {
        report.leftoverAfterAnswers++;
        throw new Error(
          `after generation ${n}: ${engine.pendingCount} engine requests, ${generation.runningCount} answers, ${conversations.streamingCount} token buffers left`,
        );
      }
      if (engine.pid !== hostPid)
        throw new Error(`the engine host restarted during the soak (generation ${n})`);
      report.generations = n;
      if (n === 1 || n === 50 || n === o.generations || n % every === 0) {
        const kib = rssKiB(engine.pid) ?? 0;
        report.rss.push({ generation: n, kib });
        o.log?.(`generation ${n}: engine RSS ${(kib / 1024).toFixed(1)} MiB, ${report.tokens} tokens so far`);
      }
    }
  } finally {
    clearInterval(pendingProbe);
    await b.close();
  }
  const at = (g: number) => report.rss.find((x) => x.generation === g)?.kib ?? null;
  report.rssFirst = report.rss[0]?.kib ?? 0;
  report.rss50 = at(50);
  report.rssLast = report.rss.at(-1)?.kib ?? 0;
  report.growthFrom50 =
    report.rss50 && o.generations > 50 ? (report.rssLast - report.rss50) / report.rss50 : null;
  report.ms = performance.now() - started;
  report.msPerGeneration = report.ms / Math.max(1, report.generations);
  return report;
}
