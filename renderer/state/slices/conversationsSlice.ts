// The conversation list (search included) and the open conversation: opening, creating, renaming,
// deleting, per-chat settings and export.
import { lastAnswer } from "../chatOps";
import { downloadText } from "../download";
import { toUiMessage, type UiMessage } from "../types";
import type { ConversationsSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createConversationsSlice({ api, set, get, fail }: SliceContext): ConversationsSlice {
  // Only the latest list request and the latest open may write (replies can come out of order).
  let listSeq = 0;
  let openSeq = 0;
  return {
    conversations: [],
    conversationsLoaded: false,
    searchQuery: "",
    activeId: null,
    conversation: null,
    messages: [],
    loadingConversation: false,
    chartMessageId: null,

    async refreshConversations() {
      const seq = ++listSeq;
      const query = get().searchQuery.trim();
      try {
        const list = await api.request("chat.list", query ? { query } : {});
        if (seq === listSeq) set({ conversations: list, conversationsLoaded: true });
      } catch (err) {
        if (seq === listSeq) set({ conversationsLoaded: true });
        fail("Could not load conversations", err);
      }
    },

    setSearchQuery(query) {
      set({ searchQuery: query });
    },

    async openConversation(id, showChat = true) {
      const seq = ++openSeq;
      set({ activeId: id, loadingConversation: true, ...(showChat ? { view: "chat" as const } : {}) });
      try {
        const { conversation, messages } = await api.request("chat.get", { id });
        if (seq !== openSeq) return;
        const g = get().generation;
        const ui = messages
          .map(toUiMessage)
          .map((m) => (g && g.messageId === m.id && !m.stats ? { ...m, streaming: true } : m));
        set((s) => ({
          conversation,
          // Tokens that streamed in before the reply came are kept (they are newer than the snapshot).
          messages: mergeSnapshot(
            ui,
            s.activeId === id ? s.messages.filter((m) => m.conversationId === id && m.streaming) : [],
          ),
          loadingConversation: false,
          chartMessageId: g?.conversationId === id ? g.messageId : (lastAnswer(ui)?.id ?? null),
        }));
      } catch (err) {
        if (seq !== openSeq) return;
        set({ loadingConversation: false });
        fail("Could not open the conversation", err);
      }
    },

    async newConversation() {
      try {
        const conversation = await api.request("chat.create", {});
        openSeq++;
        set((s) => ({
          conversations: [conversation, ...s.conversations.filter((c) => c.id !== conversation.id)],
          activeId: conversation.id,
          conversation,
          messages: [],
          chartMessageId: null,
          view: "chat",
          loadingConversation: false,
          composerFocusTick: s.composerFocusTick + 1,
        }));
      } catch (err) {
        fail("Could not start a new chat", err);
      }
    },

    async renameConversation(id, title) {
      const clean = title.trim().slice(0, 200);
      if (!clean) return;
      try {
        const updated = await api.request("chat.rename", { id, title: clean });
        set((s) => ({
          conversations: s.conversations.map((c) => (c.id === id ? { ...c, title: updated.title } : c)),
          conversation: s.conversation?.id === id ? updated : s.conversation,
        }));
      } catch (err) {
        fail("Could not rename the conversation", err);
      }
    },

    async deleteConversation(id) {
      try {
        if (get().generation?.conversationId === id) await get().stop();
        await api.request("chat.delete", { id });
        const wasActive = get().activeId === id;
        set((s) => ({ conversations: s.conversations.filter((c) => c.id !== id) }));
        if (wasActive) {
          openSeq++;
          set({ activeId: null, conversation: null, messages: [], chartMessageId: null });
          const next = get().conversations[0];
          if (next) await get().openConversation(next.id);
        }
      } catch (err) {
        fail("Could not delete the conversation", err);
      }
    },

    async updateConversation(patch) {
      const id = get().activeId;
      if (!id) return false;
      try {
        const conversation = await api.request("chat.update", { id, ...patch });
        if (get().activeId === id) set({ conversation });
        return true;
      } catch (err) {
        fail("Could not save the conversation settings", err);
        return false;
      }
    },

    async exportConversation(id) {
      try {
        const { filename, markdown } = await api.request("chat.export", { id });
        downloadText(filename, markdown);
      } catch (err) {
        fail("Could not export the conversation", err);
      }
    },

    showInCharts(messageId) {
      set({ chartMessageId: messageId });
    },
  };
}

/** Snapshot from the database plus answers that are still streaming here (newer than the snapshot). */
export function mergeSnapshot(snapshot: UiMessage[], streaming: UiMessage[]): UiMessage[] {
  if (streaming.length === 0) return snapshot;
  const out = snapshot.slice();
  for (const live of streaming) {
    const i = out.findIndex((m) => m.id === live.id);
    if (i === -1) out.push(live);
    else if (live.tokenTexts.length >= out[i].tokenTexts.length) out[i] = live;
  }
  return out;
}
