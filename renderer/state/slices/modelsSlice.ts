// The model library: listing, loading, renaming, deleting, calibrating and importing models.
import { errorMessage } from "../../api/wsApi";
import { precheckGroup, sourceName, upsertJob, type DropGroup } from "../importJobs";
import type { ModelsSlice } from "./appState";
import type { SliceContext } from "./sliceContext";

export function createModelsSlice({ api, set, get, fail, nextLocalId }: SliceContext): ModelsSlice {
  // The files behind each job this window started from a drop or a pick, so that a file refused as
  // already in the library can be sent again ("Import again anyway"). Kept outside the state: Files
  // are not data to render; `reimportable` says which jobs have them.
  const groupsByJob = new Map<string, DropGroup>();

  return {
    models: [],
    modelsLoaded: false,
    jobs: [],
    localImports: [],
    selectingModelId: null,
    importQuant: null,
    reimportable: [],
    switchingJobs: {},

    setImportQuant(quant) {
      set({ importQuant: quant });
    },

    async importAgain(jobId) {
      const group = groupsByJob.get(jobId);
      if (!group) return;
      groupsByJob.delete(jobId);
      set((s) => ({
        jobs: s.jobs.filter((j) => j.jobId !== jobId),
        reimportable: s.reimportable.filter((id) => id !== jobId),
      }));
      await get().importGroups([group], { again: true });
    },

    async refreshModels() {
      try {
        const models = await api.request("models.list", {});
        set({ models, modelsLoaded: true });
      } catch (err) {
        set({ modelsLoaded: true });
        fail("Could not list the models", err);
      }
    },

    async refreshJobs() {
      try {
        const jobs = await api.request("models.jobs", {});
        set((s) => ({ jobs: jobs.reduce((acc, j) => upsertJob(acc, j), s.jobs) }));
      } catch (err) {
        fail("Could not list the imports", err);
      }
    },

    async useModelInChat(id) {
      await get().selectModel(id);
      if (get().settings?.activeModelId === id) get().setView("chat");
    },

    async selectModel(id) {
      set({ selectingModelId: id ?? "" });
      try {
        const status = await api.request("models.select", { id });
        set((s) => ({
          engineStatus: status,
          settings: s.settings ? { ...s.settings, activeModelId: status.loadedModelId ?? id } : s.settings,
        }));
      } catch (err) {
        fail(id ? "The model could not be loaded" : "The model could not be unloaded", err);
      } finally {
        set({ selectingModelId: null });
      }
    },

    async renameModel(id, name) {
      const clean = name.trim().slice(0, 200);
      if (!clean) return;
      try {
        const updated = await api.request("models.rename", { id, name: clean });
        set((s) => ({ models: s.models.map((m) => (m.id === id ? updated : m)) }));
      } catch (err) {
        fail("Could not rename the model", err);
      }
    },

    async deleteModel(id) {
      try {
        await api.request("models.delete", { id });
        set((s) => ({
          models: s.models.filter((m) => m.id !== id),
          settings: s.settings?.activeModelId === id ? { ...s.settings, activeModelId: null } : s.settings,
        }));
      } catch (err) {
        fail("Could not delete the model", err);
      }
    },

    async calibrateModel(id) {
      try {
        const { jobId } = await api.request("models.calibrate", { id });
        const model = get().models.find((m) => m.id === id);
        set((s) => ({
          jobs: upsertJob(s.jobs, {
            jobId,
            source: model?.name ?? id,
            stage: "calibrate",
            progress: 0,
            state: "running",
          }),
        }));
      } catch (err) {
        fail("Could not start calibration", err);
      }
    },

    async importGroups(groups, options = {}) {
      await Promise.all(
        groups.map(async (group) => {
          const key = `import-${nextLocalId()}`;
          const refusal = precheckGroup(group);
          if (refusal) {
            set((s) => ({
              localImports: [
                ...s.localImports,
                { key, label: group.label, state: "refused", error: refusal },
              ],
            }));
            return;
          }
          set((s) => ({
            localImports: [...s.localImports, { key, label: group.label, state: "sending" }],
          }));
          try {
            const quant = get().importQuant;
            const { jobId } = await api.importFiles(group.files, {
              ...(quant ? { quant } : {}),
              ...(options.again ? { again: true } : {}),
            });
            groupsByJob.set(jobId, group);
            set((s) => ({
              reimportable: [...s.reimportable, jobId],
              localImports: s.localImports.filter((l) => l.key !== key),
              jobs: s.jobs.some((j) => j.jobId === jobId)
                ? s.jobs
                : upsertJob(s.jobs, {
                    jobId,
                    source: group.label,
                    stage: "read",
                    progress: 0,
                    state: "running",
                  }),
            }));
          } catch (err) {
            const error = `${group.label} could not be imported: ${errorMessage(err)}`;
            set((s) => ({
              localImports: s.localImports.map((l) =>
                l.key === key ? { ...l, state: "refused", error } : l,
              ),
            }));
          }
        }),
      );
    },

    async importWithDialog(folder) {
      try {
        const quant = get().importQuant;
        const reply = await api.request("models.importDialog", { folder, ...(quant ? { quant } : {}) });
        if (!reply) return;
        set((s) => ({
          jobs: s.jobs.some((j) => j.jobId === reply.jobId)
            ? s.jobs
            : upsertJob(s.jobs, {
                jobId: reply.jobId,
                source: folder ? "folder" : "file",
                stage: "read",
                progress: 0,
                state: "running",
              }),
        }));
      } catch (err) {
        fail("Could not open the import dialog", err);
      }
    },

    async cancelImport(jobId) {
      try {
        await api.request("models.cancelImport", { jobId });
      } catch (err) {
        const source = get().jobs.find((j) => j.jobId === jobId)?.source ?? jobId;
        fail(`Could not cancel the import of ${sourceName(source)}`, err);
      }
    },

    async restartImport(jobId, quant) {
      const old = get().jobs.find((j) => j.jobId === jobId);
      set((s) => ({ switchingJobs: { ...s.switchingJobs, [jobId]: quant } }));
      const settle = () => {
        const { [jobId]: _, ...rest } = get().switchingJobs;
        return rest;
      };
      try {
        const { jobId: next } = await api.request("models.restartImport", { jobId, quant });
        // "Import again anyway" follows the files to the new job.
        const group = groupsByJob.get(jobId);
        groupsByJob.delete(jobId);
        if (group) groupsByJob.set(next, group);
        set((s) => {
          const jobs = s.jobs.filter((j) => j.jobId !== jobId);
          return {
            switchingJobs: settle(),
            reimportable: s.reimportable.map((id) => (id === jobId ? next : id)),
            jobs: jobs.some((j) => j.jobId === next)
              ? jobs
              : upsertJob(jobs, {
                  jobId: next,
                  source: old?.source ?? next,
                  stage: "read",
                  progress: 0,
                  state: "running",
                }),
          };
        });
      } catch (err) {
        set({ switchingJobs: settle() });
        fail(`Could not import ${sourceName(old?.source ?? jobId)} as ${quant}`, err);
      }
    },

    dismissJob(jobId) {
      const running = get().jobs.some((j) => j.jobId === jobId && j.state === "running");
      if (!running) groupsByJob.delete(jobId);
      set((s) => ({
        jobs: s.jobs.filter((j) => j.jobId !== jobId || j.state === "running"),
        reimportable: running ? s.reimportable : s.reimportable.filter((id) => id !== jobId),
      }));
    },
    dismissLocalImport(key) {
      set((s) => ({ localImports: s.localImports.filter((l) => l.key !== key) }));
    },
  };
}
