import { useEffect, useId, useState, type ReactNode } from "react";
import type { Settings } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { formatMemory } from "../state/format";
import { SamplingForm } from "./SamplingForm";
import { ServerSettings } from "./ServerSettings";

export function SettingsView() {
  const settings = useApp((s) => s.settings);
  const actions = useActions();
  return (
    <div className="page settings-view">
      <header className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="muted">Changes are saved as you make them.</p>
        </div>
      </header>
      {!settings ? (
        <p className="muted">Loading settings…</p>
      ) : (
        <>
          <Section title="Appearance">
            <ThemeChooser
              value={settings.theme}
              onChange={(theme) => void actions.updateSettings({ theme })}
            />
          </Section>
          <Section title="Engine">
            <EngineSettings settings={settings} />
          </Section>
          <Section
            title="Default sampling"
            description="Used by new chats. Each chat can change its own in the chat's settings panel."
          >
            <SamplingForm
              value={settings.defaultSampling}
              onSave={(defaultSampling) => actions.updateSettings({ defaultSampling })}
              idPrefix="default"
            />
          </Section>
          <Section
            title="Local server"
            description="An OpenAI-compatible API for other programs on this computer (off unless you switch it on)."
          >
            <ServerSettings settings={settings} />
          </Section>
          <Section title="Privacy">
            <p>
              Exitlane runs entirely on this computer. It sends nothing anywhere: no telemetry, no usage
              statistics, no crash reports, no update checks. Conversations and models stay in your user-data
              folder.
            </p>
          </Section>
        </>
      )}
      <SystemPanel />
    </div>
  );
}

function Section({
  title,
  description,
  children,
}: {
  title: string;
  description?: string;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <section className="settings-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {description && <p className="muted small">{description}</p>}
      {children}
    </section>
  );
}

function ThemeChooser({
  value,
  onChange,
}: {
  value: Settings["theme"];
  onChange(v: Settings["theme"]): void;
}) {
  const options: { v: Settings["theme"]; label: string }[] = [
    { v: "light", label: "Light" },
    { v: "dark", label: "Dark" },
    { v: "system", label: "Match system" },
  ];
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">Theme</legend>
      {options.map((o) => (
        <label key={o.v} className={value === o.v ? "segment on" : "segment"}>
          <input
            type="radio"
            name="theme"
            value={o.v}
            checked={value === o.v}
            onChange={() => onChange(o.v)}
          />
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

function EngineSettings({ settings }: { settings: Settings }) {
  const info = useApp((s) => s.engineInfo);
  const status = useApp((s) => s.engineStatus);
  const native = useApp((s) => s.nativeImportDialog);
  const actions = useActions();
  const ids = { threads: useId(), provider: useId(), context: useId(), dir: useId() };
  const [threads, setThreads] = useState(String(settings.threads));
  const [context, setContext] = useState(String(settings.contextLength));

  useEffect(() => setThreads(String(settings.threads)), [settings.threads]);
  useEffect(() => setContext(String(settings.contextLength)), [settings.contextLength]);

  const providers = info?.executionProviders.map((p) => p.name) ?? [settings.executionProvider];
  if (!providers.includes(settings.executionProvider)) providers.unshift(settings.executionProvider);
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
              !threadsError &&
              threadsValue !== settings.threads &&
              void actions.updateSettings({ threads: threadsValue })
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
            onChange={(e) => void actions.updateSettings({ executionProvider: e.target.value })}
            aria-describedby={`${ids.provider}-h`}
          >
            {providers.map((p) => (
              <option key={p} value={p}>
                {providerLabel(p)}
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
              void actions.updateSettings({ contextLength: contextValue })
            }
          />
          <span id={`${ids.context}-h`} className={contextError ? "field-error" : "field-help"}>
            {contextError ??
              "Tokens the model sees at once (capped by each model's own limit). Longer needs more memory."}
          </span>
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

/** About this computer: what engine.info reports. */
export function SystemPanel() {
  const info = useApp((s) => s.engineInfo);
  const error = useApp((s) => s.engineInfoError);
  const actions = useActions();
  const headingId = useId();
  return (
    <section className="settings-section system-panel" aria-labelledby={headingId} data-testid="system-info">
      <h2 id={headingId}>About this computer</h2>
      {!info ? (
        <p className={error ? "notice warn" : "muted"}>
          {error ? `The engine did not answer: ${error}` : "Asking the engine…"}{" "}
          {error && (
            <button type="button" className="btn btn-quiet" onClick={() => void actions.refreshEngine()}>
              Try again
            </button>
          )}
        </p>
      ) : (
        <dl className="sysinfo">
          <Row label="onnxruntime" testId="sys-ort-version" value={info.onnxruntimeVersion} />
          <Row
            label="Execution providers"
            testId="sys-providers"
            value={
              info.executionProviders.map((p) => `${p.name}${p.bundled ? "" : " (extra)"}`).join(", ") ||
              "none"
            }
          />
          <Row label="CPU" testId="sys-cpu" value={`${info.cpu.model} (${info.cpu.arch})`} />
          <Row label="Cores" testId="sys-cores" value={String(info.cpu.cores)} />
          <Row label="SIMD" testId="sys-simd" value={info.cpu.simd.join(", ") || "none detected"} />
          <Row label="Memory" testId="sys-memory" value={formatMemory(info.totalMemoryBytes)} />
          <Row
            label="Sparse kernel"
            testId="sys-sparse"
            value={`${info.sparseKernel.available ? "Available" : "Not available"}${info.sparseKernel.detail ? ` — ${info.sparseKernel.detail}` : ""}`}
          />
          <Row label="Platform" testId="sys-platform" value={info.platform} />
          <Row label="Engine process" testId="sys-pid" value={`pid ${info.hostPid}`} />
        </dl>
      )}
    </section>
  );
}

function Row({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="sysrow">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
