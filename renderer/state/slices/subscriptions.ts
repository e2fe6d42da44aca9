// Start-up and the back end's events: init loads everything and subscribes (api.on), a reconnect
// refetches what the events missed while the connection was down, dispose unsubscribes.
import { isConnectionAware } from "../../api/wsApi";
import { createFrameBatcher } from "../frameBatcher";
import { upsertJob } from "../importJobs";
import type { TokenEvent } from "../streamProcessor";
import type { LifecycleSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createLifecycle(ctx: SliceContext): LifecycleSlice {
  const { api, set, get } = ctx;
  const unsubscribers: (() => void)[] = [];

  const subscribe = () => {
    const tokens = createFrameBatcher<TokenEvent>((batch) => get().applyTokenBatch(batch), ctx.scheduler);
    ctx.tokens = tokens;
    unsubscribers.push(
      api.on("generation.token", (t) => tokens.push(t)),
      api.on("generation.done", (d) => {
        tokens.flush();
        get().applyDoneEvent(d);
      }),
      api.on("import.progress", (job) => {
        const before = get().jobs.find((j) => j.jobId === job.jobId);
        set((s) => ({ jobs: upsertJob(s.jobs, job) }));
        if (job.state === "done" && before?.state !== "done") void get().refreshModels();
      }),
      api.on("engine.status", (status) => {
        set({ engineStatus: status });
        if (status.state === "restarting" || status.state === "crashed") {
          get().interruptGeneration(
            "interrupted",
            "The engine stopped while answering and is being restarted. The conversation is kept; press Regenerate to try again.",
          );
        }
      }),
      api.on("models.changed", () => void get().refreshModels()),
    );
    if (isConnectionAware(api)) {
      unsubscribers.push(
        api.onConnectionChange((state) => {
          const was = get().connection;
          set({ connection: state });
          // Back after a drop: events sent meanwhile are lost, so refetch what they would have changed.
          if (state === "open" && was !== "open" && was !== "connecting") void resync();
        }),
      );
    }
  };

  /** Everything the window shows that lives in the back end (settings only at start-up). */
  const loadAll = (withSettings: boolean) =>
    Promise.all([
      get().refreshEngine(),
      withSettings ? get().loadSettings() : undefined,
      get().refreshModels(),
      get().refreshJobs(),
      get().refreshConversations(),
    ]);

  async function resync() {
    await loadAll(false);
    const id = get().activeId;
    if (id) await get().openConversation(id);
    // An answer that ended while the connection was down lost its done event: close it here.
    const g = get().generation;
    if (g && g.conversationId === get().activeId) {
      const m = get().messages.find((x) => x.id === g.messageId);
      if (!m || m.stats)
        set({
          generation: null,
          messages: get().messages.map((x) => (x.id === g.messageId ? { ...x, streaming: false } : x)),
        });
    } else if (g) {
      get().interruptGeneration(
        "interrupted",
        "The connection dropped while answering; the answer may be incomplete.",
      );
    }
  }

  return {
    async init() {
      subscribe();
      await loadAll(true);
      const first = get().conversations[0];
      // The latest chat opens in the background: whoever went to Settings or Models while the app
      // was starting stays there.
      if (!get().activeId && first) await get().openConversation(first.id, false);
    },

    dispose() {
      for (const u of unsubscribers.splice(0)) u();
      ctx.tokens?.dispose();
      ctx.disposeAll();
    },
  };
}
