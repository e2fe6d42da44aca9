import { useEffect } from "react";
import type { Toast } from "../state/store";
import { useActions, useApp } from "../state/context";
import { Icon } from "./Icon";

export function Toasts() {
  const toasts = useApp((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} />
      ))}
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  const actions = useActions();
  useEffect(() => {
    const t = setTimeout(() => actions.dismissToast(toast.id), toast.kind === "error" ? 10_000 : 5_000);
    return () => clearTimeout(t);
  }, [actions, toast.id, toast.kind]);
  return (
    <div className={`toast ${toast.kind}`} role={toast.kind === "error" ? "alert" : "status"}>
      <Icon name={toast.kind === "error" ? "alert" : "info"} />
      <span>{toast.text}</span>
      <button
        type="button"
        className="icon-btn"
        aria-label="Dismiss message"
        onClick={() => actions.dismissToast(toast.id)}
      >
        <Icon name="close" size={14} />
      </button>
    </div>
  );
}
