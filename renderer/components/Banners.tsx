import { useActions, useApp } from "../state/context";
import { Icon } from "./Icon";

/** Engine restarts, GPU fallback and a lost connection, shown above the current view. */
export function Banners() {
  const status = useApp((s) => s.engineStatus);
  const connection = useApp((s) => s.connection);
  const dismissed = useApp((s) => s.dismissedNotices);
  const actions = useActions();
  const banners: { key: string; kind: "warn" | "error" | "info"; text: string; dismiss?: () => void }[] = [];

  if (connection === "reconnecting") {
    banners.push({
      key: "conn",
      kind: "error",
      text: "Lost the connection to Exitlane. Reconnecting… Your conversations are safe.",
    });
  }
  if (status?.state === "restarting" || status?.state === "crashed") {
    banners.push({
      key: "engine",
      kind: status.state === "crashed" ? "error" : "warn",
      text:
        status.state === "crashed"
          ? `The engine stopped unexpectedly${status.message ? ` (${status.message})` : ""}. It is being restarted; your conversation is kept.`
          : `The engine is restarting${status.message ? ` (${status.message})` : ""}. Your conversation is kept.`,
    });
  } else if (status?.state === "starting") {
    banners.push({ key: "starting", kind: "info", text: "The engine is starting…" });
  }
  const slow = status?.kernels?.notice
    ? `This model runs on ${status.kernels.name}, several times slower than the native kernels: ${status.kernels.notice}.`
    : null;
  if (slow && !dismissed.includes(slow)) {
    banners.push({ key: "kernels", kind: "warn", text: slow, dismiss: () => actions.dismissNotice(slow) });
  }
  const fallback = status?.fallbackNotice;
  if (fallback && !dismissed.includes(fallback)) {
    banners.push({
      key: "fallback",
      kind: "warn",
      text: fallback,
      dismiss: () => actions.dismissNotice(fallback),
    });
  }
  if (banners.length === 0) return null;
  return (
    <div className="banners">
      {banners.map((b) => (
        <div
          key={b.key}
          className={`banner ${b.kind}`}
          role={b.kind === "info" ? "status" : "alert"}
          data-testid={`banner-${b.key}`}
        >
          <Icon name={b.kind === "info" ? "info" : "alert"} />
          <span>{b.text}</span>
          {b.dismiss && (
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={b.dismiss}>
              <Icon name="close" size={14} />
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
