import { useEffect, useId, useState } from "react";
import type { ModelSummary, Settings } from "../../electron/contract";
import { useActions, useApp } from "../state/context";

/**
 * Said when the default context is longer than the active model's own: the engine runs the model
 * at its own limit (runtime/model-runner.ts takes the smaller of the two).
 */
export function contextClamp(contextLength: number, model: ModelSummary | null): string | null {
  if (!model || contextLength <= model.contextLength) return null;
  return `${model.name} reads at most ${model.contextLength.toLocaleString("en-US")} tokens, so it runs with ${model.contextLength.toLocaleString("en-US")}; models that allow more use ${contextLength.toLocaleString("en-US")}.`;
}

/** Threads, execution provider, context length and the models folder; each saves as it changes. */
export function EngineSettings({
  settings,
  save,
}: {
  settings: Settings;
  save(patch: Partial<Settings>): Promise<boolean>;
}) {
  const info = useApp((s) => s.engineInfo);
  const status = useApp((s) => s.engineStatus);
  const native = useApp((s) => s.nativeImportDialog);
  const activeModel = useApp((s) => s.models.find((m) => m.id === s.settings?.activeModelId) ?? null);
  const actions = useActions();
  const ids = { threads: useId(), provider: useId(), context: useId(), dir: useId() };
  const [threads, setThreads] = useState(String(settings.threads));
  const [context, setContext] = useState(String(settings.contextLength));

  useEffect(() => setThreads(String(settings.threads)), [settings.threads]);
  useEffect(() => setContext(String(settings.contextLength)), [settings.contextLength]);

  // engine.info lists only the providers that run here; a stored choice that does not (a settings
  // file from another computer) is shown as such, and the engine falls back to the CPU for it.
  const providers = info?.executionProviders.map((p) => p.name) ?? [settings.executionProvider];
  const storedUnavailable = !providers.includes(settings.executionProvider);
  if (storedUnavailable) providers.unshift(settings.executionProvider);
  const clamp = contextClamp(settings.contextLength, activeModel);
  const maxThreads = Math.min(256, Math.max(1, (info?.cpu.cores ?? 16) * 2));

  const threadsValue = Number(threads);
  const threadsError =
    !Number.isInteger(threadsValue) || threadsValue < 1 || threadsValue > 256
      ? "A whole number from 1 to 256."
      : null;
  const contextValue = Number(context);
  const contextError =
    !Number.isInteger(contextValue) || contextValue < 128 || contextValue > 131072
      ? "A whole number from 128 to 131072."
      : null;

  return (
    <div className="form-rows">
      <div className="form-row">
        <label htmlFor={ids.threads}>CPU threads</label>
        <div>
          <input
            id={ids.threads}
            type="number"
            min={1}
            max={maxThreads}
            value={threads}
            aria-invalid={threadsError ? true : undefined}
            aria-describedby={`${ids.threads}-h`}
            onChange={(e) => setThreads(e.target.value)}
            onBlur={() =>
              !threadsError && threadsValue !== settings.threads && void save({ threads: threadsValue })
            }
          />
          <span id={`${ids.threads}-h`} className={threadsError ? "field-error" : "field-help"}>
            {threadsError ??
              `This computer has ${info?.cpu.cores ?? "?"} cores. More threads than cores rarely helps.`}
          </span>
        </div>
      </div>
      <div className="form-row">
        <label htmlFor={ids.provider}>Execution provider</label>
        <div>
          <select
            id={ids.provider}
            value={settings.executionProvider}
            onChange={(e) => void save({ executionProvider: e.target.value })}
            aria-describedby={`${ids.provider}-h`}
          >
            {providers.map((p) => (
              <option key={p} value={p}>
                {providerLabel(p)}
                {storedUnavailable && p === settings.executionProvider ? " (not available here)" : ""}
              </option>
            ))}
          </select>
          <span id={`${ids.provider}-h`} className="field-help">
            Only the providers onnxruntime reports on this computer are listed. If a GPU provider fails,
            Exitlane falls back to the CPU and says so.
          </span>
          {status?.fallbackNotice && (
            <p className="notice warn" role="status">
              {status.fallbackNotice}
            </p>
          )}
        </div>
      </div>
      <div className="form-row">
        <label htmlFor={ids.context}>Context length</label>
        <div>
          <input
            id={ids.context}
            type="number"
            min={128}
            max={131072}
            step={128}
            value={context}
            aria-invalid={contextError ? true : undefined}
            aria-describedby={`${ids.context}-h`}
            onChange={(e) => setContext(e.target.value)}
            onBlur={() =>
              !contextError &&
              contextValue !== settings.contextLength &&
              void save({ contextLength: contextValue })
            }
          />
          <span id={`${ids.context}-h`} className={contextError ? "field-error" : "field-help"}>
            {contextError ??
              "Tokens the model sees at once (capped by each model's own limit). Longer needs more memory."}
          </span>
          {!contextError && clamp && (
            <p className="notice" role="status" data-testid="context-clamped">
              {clamp}
            </p>
          )}
        </div>
      </div>
      <div className="form-row">
        <span id={ids.dir} className="label">
          Models folder
        </span>
        <div className="path-row">
          <code className="path" aria-labelledby={ids.dir}>
            {settings.modelsDir || "—"}
          </code>
          {native && (
            <button
              type="button"
              className="btn"
              onClick={() => void actions.chooseModelsDir()}
              aria-label="Change the models folder"
            >
              Change…
            </button>
          )}
        </div>
      </div>
    </div>
  );
}

function providerLabel(name: string): string {
  const known: Record<string, string> = {
    cpu: "CPU",
    webgpu: "WebGPU",
    cuda: "CUDA (NVIDIA)",
    dml: "DirectML",
    tensorrt: "TensorRT",
    coreml: "Core ML",
  };
  return known[name.toLowerCase()] ?? name;
}
