// Answers: sending a message, the tokens and the done event of the answer streaming in, Stop,
// Regenerate and edit-and-resend. The list updates themselves are the pure functions in chatOps and
// streamProcessor; this slice decides when to apply them.
import { describeAnswerError } from "../answerErrors";
import {
  LOCAL_PREFIX,
  localUserMessage,
  placeExchange,
  replaceFromMessage,
  replaceLastAnswer,
  touchConversation,
} from "../chatOps";
import { applyDone, applyStreamEvents, createStreamingMessage, interruptMessage } from "../streamProcessor";
import type { AppState, GenerationSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createGenerationSlice(ctx: SliceContext): GenerationSlice {
  const { api, set, get, fail, activeModelId } = ctx;
  let stopTimer: ReturnType<typeof setTimeout> | undefined;
  ctx.onDispose(() => clearTimeout(stopTimer));

  const startGeneration = (conversationId: string, messageId: string) => {
    set({ generation: { conversationId, messageId, stopRequestedAt: null }, chartMessageId: messageId });
  };

  /**
   * The answer asked for whose request (send, regenerate, edit) has not replied yet. Stop pressed
   * meanwhile is kept here and sent once the reply names the answer: on a fast model the whole
   * answer can stream while the reply is on its way, so a Stop dropped then would never land.
   */
  let requested: { stop: boolean } | null = null;
  const askForAnswer = async <T>(ask: () => Promise<T>): Promise<{ reply: T; stop: boolean }> => {
    const mine = { stop: false };
    requested = mine;
    try {
      return { reply: await ask(), stop: mine.stop };
    } finally {
      if (requested === mine) requested = null;
    }
  };

  /** After a request that started an answer: track it, unless its done event already came. */
  const trackAnswer = (conversationId: string, assistantMessageId: string, stop: boolean) => {
    const answer = get().messages.find((m) => m.id === assistantMessageId);
    if (answer && !answer.streaming) return;
    startGeneration(conversationId, assistantMessageId);
    if (stop) void get().stop();
  };

  return {
    generation: null,
    composerRestore: null,

    interruptGeneration(reason, error) {
      const g = get().generation;
      if (!g) return;
      ctx.tokens?.flush();
      set((s) => ({
        generation: null,
        messages: s.messages.map((m) => (m.id === g.messageId ? interruptMessage(m, reason, error) : m)),
      }));
    },

    async send(text) {
      const body = text.trim();
      if (!body) return false;
      if (get().generation) {
        get().toast("info", "Wait for the current answer to finish, or press Stop (Esc).");
        return false;
      }
      if (!activeModelId()) {
        get().toast(
          "error",
          "No model is loaded. Pick one in the model menu above, or import one in Models.",
        );
        return false;
      }
      let conversationId = get().activeId;
      if (!conversationId) {
        await get().newConversation();
        conversationId = get().activeId;
        if (!conversationId) return false;
      }
      const local = localUserMessage(conversationId, text, ctx.nextLocalId());
      set((s) => ({ messages: [...s.messages, local] }));
      try {
        const { reply, stop } = await askForAnswer(() => api.request("chat.send", { conversationId, text }));
        const { userMessage, assistantMessageId, conversation } = reply;
        if (get().activeId === conversationId) {
          set((s) => ({
            messages: placeExchange(s.messages, userMessage, assistantMessageId, local.id, activeModelId()),
          }));
        }
        // The answer may already be over (a done event can beat the reply): only start tracking it if not.
        trackAnswer(conversationId, assistantMessageId, stop);
        // The first message names a new chat: the list shows the name at once, not after a reload.
        set((s) => ({
          conversations: touchConversation(s.conversations, conversationId!, body).map((c) =>
            c.id === conversation.id ? { ...c, title: conversation.title } : c,
          ),
          conversation: s.conversation?.id === conversation.id ? conversation : s.conversation,
        }));
        return true;
      } catch (err) {
        set((s) => ({
          messages: s.messages.filter((m) => m.id !== local.id),
          composerRestore: { text, tick: (s.composerRestore?.tick ?? 0) + 1 },
        }));
        fail("The message was not sent", err);
        return false;
      }
    },

    canStop() {
      return get().generation !== null || requested !== null;
    },

    async stop() {
      const g = get().generation;
      if (!g && requested) requested.stop = true;
      if (!g || g.stopRequestedAt !== null) return;
      set({ generation: { ...g, stopRequestedAt: ctx.now() } });
      clearTimeout(stopTimer);
      // A Stop button must never get stuck: if the engine does not end the answer, close it here.
      stopTimer = setTimeout(() => {
        if (get().generation?.messageId === g.messageId) get().interruptGeneration("stopped");
      }, ctx.stopGraceMs);
      try {
        await api.request("chat.stop", { conversationId: g.conversationId });
      } catch (err) {
        get().interruptGeneration("stopped");
        fail("Stopping failed", err);
      }
    },

    async regenerate() {
      const conversationId = get().activeId;
      if (!conversationId || get().generation) return;
      try {
        const { reply, stop } = await askForAnswer(() => api.request("chat.regenerate", { conversationId }));
        const { assistantMessageId } = reply;
        if (get().activeId === conversationId) {
          set((s) => ({
            messages: replaceLastAnswer(s.messages, conversationId, assistantMessageId, activeModelId()),
          }));
        }
        trackAnswer(conversationId, assistantMessageId, stop);
      } catch (err) {
        fail("Could not regenerate the answer", err);
      }
    },

    async editAndResend(messageId, text) {
      const conversationId = get().activeId;
      const body = text.trim();
      if (!conversationId || !body || get().generation || messageId.startsWith(LOCAL_PREFIX)) return;
      try {
        const { reply, stop } = await askForAnswer(() =>
          api.request("chat.edit", { conversationId, messageId, text }),
        );
        const { userMessage, assistantMessageId } = reply;
        if (get().activeId === conversationId) {
          set((s) => ({
            messages: replaceFromMessage(
              s.messages,
              messageId,
              userMessage,
              assistantMessageId,
              activeModelId(),
            ),
          }));
        }
        trackAnswer(conversationId, assistantMessageId, stop);
      } catch (err) {
        fail("Could not send the edited message", err);
      }
    },

    applyTokenBatch(tokens) {
      if (tokens.length === 0) return;
      const s = get();
      const last = tokens[tokens.length - 1];
      const patch: Partial<AppState> = {};
      // Tokens of an answer this window did not start (another window, or after a reload).
      if (!s.generation || s.generation.messageId !== last.messageId) {
        const sealed = s.messages.find((m) => m.id === last.messageId && !m.streaming && m.stats);
        if (!sealed) {
          patch.generation = {
            conversationId: last.conversationId,
            messageId: last.messageId,
            stopRequestedAt: null,
          };
          if (last.conversationId === s.activeId) patch.chartMessageId = last.messageId;
        }
      }
      if (s.activeId) {
        const layersOf = (id: string | null) => s.models.find((m) => m.id === id)?.layers ?? 0;
        const messages = applyStreamEvents(s.messages, s.activeId, tokens, activeModelId(), layersOf);
        if (messages !== s.messages) patch.messages = messages;
      }
      set(patch);
    },

    applyDoneEvent(done) {
      const s = get();
      const g = s.generation;
      if (g?.messageId === done.messageId) clearTimeout(stopTimer);
      let needsResync = false;
      const messages = s.messages.map((m) => {
        if (m.id !== done.messageId) return m;
        const sealed = applyDone(m, done);
        // Tokens were missed (opened mid-answer, reconnect): the database has the full answer.
        if (sealed.tokenTexts.length < done.stats.tokens) needsResync = true;
        return sealed;
      });
      if (!messages.some((m) => m.id === done.messageId) && done.conversationId === s.activeId) {
        const placeholder = applyDone(
          createStreamingMessage(done.conversationId, done.messageId, activeModelId()),
          done,
        );
        messages.push(placeholder);
        needsResync = true;
      }
      set({ messages, generation: g?.messageId === done.messageId ? null : g });
      // The message says the same beneath the answer; the toast is for a chat scrolled elsewhere.
      if (done.error || done.errorCode)
        get().toast("error", describeAnswerError(done.errorCode, done.error).text);
      const answer = messages.find((m) => m.id === done.messageId);
      if (answer)
        set((st) => ({
          conversations: touchConversation(st.conversations, done.conversationId, answer.content),
        }));
      if (needsResync && done.conversationId === get().activeId)
        void get().openConversation(done.conversationId);
    },
  };
}
