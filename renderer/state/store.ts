// The renderer's state: one zustand store, created around an ExitlaneApi (the real one in the app,
// a fake in tests). Components read it with selectors and call its actions. The store is built
// from one slice per domain (./slices): ui, conversations and generation (the chat), models and
// engine, plus the lifecycle that subscribes to the back end's events. All list updates go through
// the pure functions in chatOps / streamProcessor / importJobs.
import { createStore } from "zustand/vanilla";
import type { ExitlaneApi } from "../../electron/contract";
import type { AppState, AppStore } from "./slices/appState";
import { createConversationsSlice } from "./slices/conversationsSlice";
import { createEngineSlice } from "./slices/engineSlice";
import { createGenerationSlice } from "./slices/generationSlice";
import { createModelsSlice } from "./slices/modelsSlice";
import { createSliceContext, type StoreOptions } from "./slices/sliceContext";
import { createLifecycle } from "./slices/subscriptions";
import { createUiSlice } from "./slices/uiSlice";

export type { AppState, AppStore, Generation, LocalImport, Toast, View } from "./slices/appState";
export type { StoreOptions } from "./slices/sliceContext";

export function createAppStore(api: ExitlaneApi, options: StoreOptions = {}): AppStore {
  return createStore<AppState>()((set, get) => {
    const ctx = createSliceContext(api, set, get, options);
    return {
      ...createUiSlice(ctx),
      ...createConversationsSlice(ctx),
      ...createGenerationSlice(ctx),
      ...createModelsSlice(ctx),
      ...createEngineSlice(ctx),
      ...createLifecycle(ctx),
    };
  });
}
