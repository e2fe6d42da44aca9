// Settings › Local server: the switch for the local OpenAI-compatible server (off by default),
// its port, and while it runs the URL and API key to give a client, with copy buttons and a way
// to replace the key. The state comes from server.status (reply and events); the switch and the
// port are ordinary settings.
import { useEffect, useId, useState } from "react";
import type { ServerStatus, Settings } from "../../electron/contract";
import { useActions, useApi } from "../state/context";

export function ServerSettings({ settings }: { settings: Settings }) {
  const api = useApi();
  const actions = useActions();
  const ids = { enabled: useId(), port: useId() };
  const [status, setStatus] = useState<ServerStatus | null>(null);
  const [port, setPort] = useState(String(settings.server.port));

  useEffect(() => {
    let live = true;
    const off = api.on("server.status", (s) => live && setStatus(s));
    api
      .request("server.status", {})
      .then((s) => live && setStatus(s))
      .catch(() => undefined);
    return () => {
      live = false;
      off();
    };
  }, [api]);
  useEffect(() => setPort(String(settings.server.port)), [settings.server.port]);

  const portValue = Number(port);
  const portError =
    !Number.isInteger(portValue) || portValue < 1024 || portValue > 65535
      ? "A whole number from 1024 to 65535."
      : null;
  const change = (server: Partial<Settings["server"]>) =>
    void actions.updateSettings({ server: { ...settings.server, ...server } });

  return (
    <div className="form-rows">
      <div className="form-row">
        <label htmlFor={ids.enabled}>OpenAI-compatible server</label>
        <div>
          <input
            id={ids.enabled}
            type="checkbox"
            role="switch"
            checked={settings.server.enabled}
            aria-describedby={`${ids.enabled}-h`}
            onChange={(e) => change({ enabled: e.target.checked })}
          />
          <span id={`${ids.enabled}-h`} className="field-help">
            Lets programs on this computer use your models through the OpenAI API. It listens on 127.0.0.1
            only and needs the API key below.
          </span>
          {status?.error && (
            <p className="notice warn" role="alert">
              {status.error}
            </p>
          )}
        </div>
      </div>
      <div className="form-row">
        <label htmlFor={ids.port}>Port</label>
        <div>
          <input
            id={ids.port}
            type="number"
            min={1024}
            max={65535}
            value={port}
            aria-invalid={portError ? true : undefined}
            aria-describedby={`${ids.port}-h`}
            onChange={(e) => setPort(e.target.value)}
            onBlur={() => !portError && portValue !== settings.server.port && change({ port: portValue })}
          />
          <span id={`${ids.port}-h`} className={portError ? "field-error" : "field-help"}>
            {portError ?? "1234 by default, like other local servers."}
          </span>
        </div>
      </div>
      {status?.running && status.url && status.apiKey && (
        <>
          <CopyRow label="URL" value={status.url} />
          <CopyRow label="API key" value={status.apiKey} />
          <div className="form-row">
            <span />
            <div>
              <button
                type="button"
                className="btn"
                onClick={() =>
                  void api
                    .request("server.newKey", {})
                    .then(setStatus)
                    .catch(() => undefined)
                }
              >
                New key
              </button>
              <span className="field-help">Programs using the old key are refused from then on.</span>
            </div>
          </div>
        </>
      )}
    </div>
  );
}

function CopyRow({ label, value }: { label: string; value: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <div className="form-row">
      <label htmlFor={id}>{label}</label>
      <div>
        <input id={id} type="text" readOnly value={value} onFocus={(e) => e.target.select()} />
        <button
          type="button"
          className="btn btn-quiet"
          aria-label={`Copy ${label}`}
          onClick={() =>
            void navigator.clipboard
              ?.writeText(value)
              .then(() => setCopied(true))
              .catch(() => undefined)
          }
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}
