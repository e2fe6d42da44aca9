// The engine's side of the host protocol: import, library, load, generate, stop, knob.
// The host process owns one EngineState; the app talks to it only through these methods.
import path from "node:path";
import type { MethodTable } from "./methods.js";
import { HostMethodError } from "./methods.js";
import { TokenBatcher } from "./token-batcher.js";
import type { ModelSummary } from "./protocol.js";
import type { Manifest } from "../package/manifest.js";
import { loadNativeKernels } from "../kernels/index.js";
import { DECODE_REVISION } from "../engine/decode-revision.js";
import {
  AlreadyImportedError,
  cleanPartialPackages,
  deletePackage,
  listPackages,
  readManifest,
  renamePackage,
} from "../package/models-dir.js";
import { importModel } from "../engine/import-model.js";
import { calibrateModel } from "../engine/calibrate-model.js";
import { LoadedModel } from "../engine/loaded-model.js";
import { CancelledError, throwIfAborted } from "../formats/cancel.js";
import { ModelFormatError } from "../formats/errors.js";
import { ContextFullError } from "../runtime/kv-cache.js";
import { UnsupportedSchemaError } from "../runtime/grammar/schema-support.js";

export function toSummary(m: Manifest): ModelSummary {
  return {
    id: m.id,
    name: m.name,
    arch: m.config.arch,
    params: m.params,
    quant: m.quant,
    layers: m.config.numLayers,
    contextLength: m.config.contextLength,
    sizeBytes: m.sizeBytes,
    // runtime/kv-cache.ts: a float32 key and value row per layer, KV head and position.
    kvBytesPerToken: 2 * m.config.numLayers * m.config.numKvHeads * m.config.headDim * 4,
    sourceFormat: m.source.format,
    sourceFile: path.basename(m.source.path),
    ...(m.sourceBlocks ? { sourceBlocks: m.sourceBlocks } : {}),
    createdAt: m.createdAt,
    // Older packages did not record it; they were all prompted as chat models.
    mode: m.tokenizer.chatTemplate === false ? "completion" : "chat",
    calibration: m.calibration
      ? {
          status: "calibrated",
          curve: m.calibration.curve,
          lossless: m.calibration.lossless ? { speedup: m.calibration.lossless.speedup } : null,
          ...(m.calibration.kernels ? { measuredOn: m.calibration.kernels } : {}),
          ...staleness(m),
        }
      : { status: "none", curve: [], lossless: null },
  };
}

/**
 * A calibration whose speeds were measured on other kernels than the ones that run the model now
 * (onnxruntime, where a host could not find the native kernels, or not recorded: calibrated before
 * the engine said), or by an engine whose decode speeds have changed since (DECODE_REVISION). Its
 * curve's speedups and its choice of strategies do not hold here.
 */
export function staleness(m: Manifest, nativeAvailable = loadNativeKernels().available): { stale?: string } {
  if (!m.calibration) return {};
  const measured = m.calibration.kernels;
  if (m.native && nativeAvailable && !measured?.startsWith("native"))
    return {
      stale: measured
        ? `measured on ${measured}; the native kernels run this model now`
        : "measured before the engine recorded which kernels ran; the native kernels run this model now",
    };
  const revision = m.calibration.decodeRevision ?? 1;
  if (revision < DECODE_REVISION)
    return { stale: "measured by an earlier version of the engine, whose speeds have changed since" };
  return {};
}

interface Loaded {
  key: string;
  model: LoadedModel;
}

export class EngineState {
  private loaded: Loaded | null = null;
  private readonly jobs = new Map<string, AbortController>();
  private readonly generations = new Map<string, AbortController>();
  private readonly cleaned = new Set<string>();
  knob = 0.5;

  /** Interrupted imports leave `.partial-*` folders; the first look at a models dir removes them. */
  async prepare(modelsDir: string): Promise<void> {
    if (this.cleaned.has(modelsDir)) return;
    this.cleaned.add(modelsDir);
    await cleanPartialPackages(modelsDir);
  }

  methods(): MethodTable {
    return {
      importModel: async (p, ctx) => {
        // Registered before the first await: a cancel sent right behind the request must find it.
        const controller = this.track(this.jobs, p.jobId);
        try {
          await this.prepare(p.modelsDir);
          throwIfAborted(controller.signal);
          const r = await importModel(p.source, {
            modelsDir: p.modelsDir,
            quant: p.quant,
            name: p.name,
            duplicates: p.duplicates,
            // Usable at full depth as soon as conversion ends: the app calibrates afterwards.
            calibrate: false,
            signal: controller.signal,
            onProgress: (stage, progress) =>
              ctx.emit({ event: "progress", jobId: p.jobId, stage, progress: clamp01(progress) }),
            onPlan: (plan) =>
              ctx.emit({ event: "progress", jobId: p.jobId, stage: "read", progress: 0, plan }),
          });
          return { model: toSummary(r.manifest) };
        } catch (err) {
          throw hostError(err);
        } finally {
          this.jobs.delete(p.jobId);
        }
      },
      calibrate: async (p, ctx) => {
        const controller = this.track(this.jobs, p.jobId);
        try {
          const { manifest } = await calibrateModel(
            p.modelId,
            { modelsDir: p.modelsDir },
            {
              signal: controller.signal,
              onProgress: (f) =>
                ctx.emit({ event: "progress", jobId: p.jobId, stage: "calibrate", progress: clamp01(f) }),
            },
          );
          // A loaded copy of this model (perhaps answering right now) takes the new exit policy from
          // its next token on.
          if (this.loaded?.model.manifest.id === p.modelId) await this.loaded.model.reloadCalibration();
          return { model: toSummary(manifest) };
        } catch (err) {
          throw hostError(err);
        } finally {
          this.jobs.delete(p.jobId);
        }
      },
      cancel: async (p) => {
        const c = this.jobs.get(p.jobId);
        c?.abort();
        return { cancelled: !!c };
      },
      listModels: async (p) => {
        await this.prepare(p.modelsDir);
        return (await listPackages(p.modelsDir)).models.map(toSummary);
      },
      deleteModel: async (p) => {
        if (this.loaded?.model.manifest.id === p.modelId) await this.unload();
        await deletePackage(p.modelsDir, p.modelId).catch((err) => {
          throw new HostMethodError(
            "not_found",
            `cannot delete model ${p.modelId}: ${(err as Error).message}`,
          );
        });
        return { deleted: true };
      },
      renameModel: async (p) =>
        toSummary(await renamePackage(p.modelsDir, p.modelId, p.name).catch(notFound(p.modelId))),
      load: async (p, ctx) => {
        const dir = path.join(p.modelsDir, p.modelId);
        await readManifest(dir).catch(notFound(p.modelId));
        const key = JSON.stringify(p);
        if (this.loaded?.key !== key) {
          await this.unload();
          const model = await LoadedModel.load(dir, {
            modelsDir: p.modelsDir,
            threads: p.threads,
            executionProvider: p.executionProvider,
            contextLength: p.contextLength,
            onProgress: (f) => ctx.emit({ event: "loading", modelId: p.modelId, progress: clamp01(f) }),
          }).catch((err) => {
            throw hostError(err);
          });
          // The user's first answer then runs on warm code.
          await model.warmUp();
          this.loaded = { key, model };
        }
        const m = this.loaded.model;
        return {
          modelId: m.manifest.id,
          layers: m.runner.layers,
          mode: toSummary(m.manifest).mode,
          executionProvider: m.runner.provider.provider,
          kernels: m.runner.kernels,
          ...(m.nativeNotice ? { nativeNotice: m.nativeNotice } : {}),
          fallbackNotice: m.runner.provider.fallbackNotice,
        };
      },
      unload: async () => ({ unloaded: await this.unload() }),
      generate: async (p, ctx) => {
        const loaded = this.loaded;
        if (!loaded || loaded.model.manifest.id !== p.modelId)
          throw new HostMethodError("failed", `model ${p.modelId} is not loaded`);
        if (this.generations.size > 0)
          throw new HostMethodError("failed", "another answer is still being generated");
        const controller = this.track(this.generations, p.genId);
        const batch = new TokenBatcher((tokens) => ctx.emit({ event: "tokens", genId: p.genId, tokens }));
        this.knob = p.knob;
        const { model } = loaded;
        try {
          const it = model.chat({
            ...(p.prompt !== undefined ? { prompt: p.prompt } : { messages: p.messages! }),
            stop: p.stop,
            overflow: p.overflow,
            sampling: p.sampling,
            maxTokens: p.sampling.maxTokens,
            signal: controller.signal,
            knob: () => this.knob,
            // The slider's first stop is exact: lossless speculative decoding where it measured faster.
            lossless: "where-it-pays",
            ...(p.constraint ? { constraint: p.constraint } : {}),
            ...(p.tools ? { tools: p.tools } : {}),
          });
          let index = 0;
          for (;;) {
            const r = await it.next();
            if (r.done) {
              batch.flush();
              const s = r.value;
              return {
                tokens: s.tokens,
                tokensPerSecond: s.decodeTokensPerSecond,
                timeToFirstTokenMs: s.timeToFirstTokenMs,
                meanExitLayer: s.meanExitLayer,
                layers: s.layers,
                stopReason: s.stopReason,
                promptTokens: s.promptTokens,
                ...(s.droppedMessages ? { droppedMessages: s.droppedMessages } : {}),
                ...(s.droppedTokens ? { droppedTokens: s.droppedTokens } : {}),
                ...(s.tail ? { tail: s.tail } : {}),
              };
            }
            const t = r.value;
            batch.add({
              index: index++,
              tokenId: t.id,
              text: t.text,
              exitLayer: t.exitLayer,
              ms: t.ms,
              ...(t.exit ? { exit: t.exit } : {}),
            });
          }
        } catch (err) {
          throw hostError(err);
        } finally {
          // Tokens made before an error or a stop still reach the app, ahead of the reply.
          batch.flush();
          this.generations.delete(p.genId);
        }
      },
      stop: async (p) => {
        const c = this.generations.get(p.genId);
        c?.abort();
        return { stopped: !!c };
      },
      setKnob: async (p) => {
        this.knob = p.value;
        return {};
      },
    };
  }

  private track(map: Map<string, AbortController>, id: string): AbortController {
    if (map.has(id)) throw new HostMethodError("bad_request", `job ${id} is already running`);
    const c = new AbortController();
    map.set(id, c);
    return c;
  }

  private async unload(): Promise<boolean> {
    if (!this.loaded) return false;
    for (const c of this.generations.values()) c.abort();
    const { model } = this.loaded;
    this.loaded = null;
    await model.dispose();
    return true;
  }
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function notFound(id: string) {
  return (err: unknown): never => {
    throw new HostMethodError("not_found", `no model ${id} (${(err as Error).message})`);
  };
}

/** Engine errors become host errors with codes the app can act on; messages stay specific. */
export function hostError(err: unknown): HostMethodError {
  if (err instanceof HostMethodError) return err;
  if (err instanceof CancelledError) return new HostMethodError("cancelled", "cancelled");
  if (err instanceof ModelFormatError)
    return new HostMethodError("model_format", err.message, {
      formatCode: err.code,
      ...(err.file ? { file: err.file } : {}),
    });
  if (err instanceof ContextFullError) return new HostMethodError("context_full", err.message);
  if (err instanceof UnsupportedSchemaError) return new HostMethodError("bad_request", err.message);
  if (err instanceof AlreadyImportedError)
    return new HostMethodError("already_imported", err.message, { modelId: err.modelId });
  return new HostMethodError("failed", err instanceof Error ? err.message : String(err));
}
