import { useId, type ReactNode } from "react";
import type { EngineInfo, Settings } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { formatMemory } from "../state/format";
import { EngineSettings } from "./EngineSettings";
import { SamplingForm } from "./SamplingForm";
import { ServerSettings } from "./ServerSettings";
import { useSettingsSaver } from "./useSettingsSaver";

export function SettingsView() {
  const settings = useApp((s) => s.settings);
  const { save, saved } = useSettingsSaver();
  return (
    <div className="page settings-view">
      <header className="page-header">
        <div>
          <h1>Settings</h1>
          <p className="muted">Changes are saved as you make them.</p>
        </div>
        <p className="saved-note" role="status" data-testid="settings-saved">
          {saved ? "✓ Saved" : ""}
        </p>
      </header>
      {!settings ? (
        <p className="muted">Loading settings…</p>
      ) : (
        <>
          <Section title="Appearance">
            <ThemeChooser value={settings.theme} onChange={(theme) => void save({ theme })} />
          </Section>
          <Section title="Engine">
            <EngineSettings settings={settings} save={save} />
          </Section>
          <Section
            title="Default sampling"
            description="Used by new chats. Each chat can change its own in the chat's settings panel."
          >
            <SamplingForm
              value={settings.defaultSampling}
              onSave={(defaultSampling) => save({ defaultSampling })}
              idPrefix="default"
              autoSave
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
            label="Native kernels"
            testId="sys-native"
            warn={!info.nativeKernels.available}
            value={describeNativeKernels(info.nativeKernels)}
          />
          <Row label="Platform" testId="sys-platform" value={info.platform} />
          <Row label="Engine process" testId="sys-pid" value={`pid ${info.hostPid}`} />
        </dl>
      )}
    </section>
  );
}

function Row({
  label,
  value,
  testId,
  warn,
}: {
  label: string;
  value: string;
  testId: string;
  warn?: boolean;
}) {
  return (
    <div className="sysrow">
      <dt>{label}</dt>
      <dd data-testid={testId} className={warn ? "warn-text" : undefined}>
        {value}
      </dd>
    </div>
  );
}

/** The kernel set this CPU runs, or why there is none and what that costs. */
export function describeNativeKernels(k: EngineInfo["nativeKernels"]): string {
  if (!k.available)
    return `Not available: models run on onnxruntime, and answers are several times slower (${k.detail})`;
  const [best, ...others] = k.kernels;
  return `${best ?? "available"}${others.length ? ` (this CPU also runs ${others.join(", ")})` : ""}`;
}
