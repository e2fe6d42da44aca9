// The engine's info and status, the settings and the speed knob.
import { errorMessage } from "../../api/wsApi";
import type { EngineSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createEngineSlice({ api, set, get, fail }: SliceContext): EngineSlice {
  return {
    engineInfo: null,
    engineInfoError: null,
    engineStatus: null,
    settings: null,
    dismissedNotices: [],

    async refreshEngine() {
      await Promise.all([
        api
          .request("engine.info", {})
          .then((engineInfo) => set({ engineInfo, engineInfoError: null }))
          .catch((err) => set({ engineInfoError: errorMessage(err) })),
        api
          .request("engine.status", {})
          .then((engineStatus) => set({ engineStatus }))
          .catch((err) => fail("Could not read the engine status", err)),
      ]);
    },

    async loadSettings() {
      try {
        set({ settings: await api.request("settings.get", {}) });
      } catch (err) {
        fail("Could not read settings", err);
      }
    },

    async updateSettings(patch) {
      const before = get().settings;
      if (before) set({ settings: { ...before, ...patch } });
      try {
        const settings = await api.request("settings.set", patch);
        set({ settings });
      } catch (err) {
        set({ settings: before });
        fail("The setting was not saved", err);
      }
    },

    async setKnob(value) {
      const v = Math.min(1, Math.max(0, value));
      const before = get().settings;
      if (before) set({ settings: { ...before, knob: v } });
      try {
        const settings = await api.request("generation.setKnob", { value: v });
        // Keep the latest local position if the user moved on while this was in flight.
        set((s) => ({ settings: { ...settings, knob: s.settings?.knob ?? settings.knob } }));
      } catch (err) {
        fail("The speed setting was not applied", err);
      }
    },

    async chooseModelsDir() {
      try {
        const settings = await api.request("settings.chooseModelsDir", {});
        const changed = settings.modelsDir !== get().settings?.modelsDir;
        set({ settings });
        if (changed) await get().refreshModels();
      } catch (err) {
        fail("The models folder was not changed", err);
      }
    },

    dismissNotice(notice) {
      set((s) => ({ dismissedNotices: [...s.dismissedNotices, notice] }));
    },
  };
}
