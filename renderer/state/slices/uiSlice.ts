// Views, toasts and focus requests.
import { isConnectionAware } from "../../api/wsApi";
import { hasNativeImportDialog } from "../../api/createApi";
import type { UiSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createUiSlice({ api, set }: SliceContext): UiSlice {
  let toastId = 0;
  return {
    view: "chat",
    connection: isConnectionAware(api) ? api.connectionState : "ipc",
    transport: api.transport,
    nativeImportDialog: hasNativeImportDialog(api),
    searchFocusTick: 0,
    composerFocusTick: 0,
    toasts: [],

    setView(view) {
      set({ view });
    },
    toast(kind, text) {
      const id = ++toastId;
      set((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text }] }));
    },
    dismissToast(id) {
      set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
    },
    requestSearchFocus() {
      set((s) => ({ searchFocusTick: s.searchFocusTick + 1 }));
    },
    requestComposerFocus() {
      set((s) => ({ composerFocusTick: s.composerFocusTick + 1 }));
    },
  };
}
