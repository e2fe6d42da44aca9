import { createContext, useContext, type ReactNode } from "react";
import { useStore } from "zustand";
import type { ExitlaneApi } from "../../electron/contract";
import type { AppState, AppStore } from "./store";

interface AppContextValue {
  store: AppStore;
  api: ExitlaneApi;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider({
  store,
  api,
  children,
}: {
  store: AppStore;
  api: ExitlaneApi;
  children: ReactNode;
}) {
  return <AppContext.Provider value={{ store, api }}>{children}</AppContext.Provider>;
}

function useAppContext(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error("AppProvider is missing");
  return ctx;
}

/** Reads a slice of the app state; the component re-renders only when the slice changes. */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppContext().store, selector);
}

/** The store's actions (stable; reading them does not subscribe to anything). */
export function useActions(): AppState {
  return useAppContext().store.getState();
}

export function useAppStore(): AppStore {
  return useAppContext().store;
}

/** The API object (for event subscriptions that belong to a component, like menu commands). */
export function useApi(): ExitlaneApi {
  return useAppContext().api;
}
