import { useEffect, useState } from "react";
import type { EngineUsage as Usage } from "../../electron/contract";
import { useApi } from "../state/context";
import { formatMemory } from "../state/format";

/** How often the engine's memory and CPU are read (ms): low, it is a glance, not a monitor. */
export const USAGE_INTERVAL_MS = 5000;

/**
 * The engine process's memory and CPU at the foot of the sidebar, read every few seconds while the
 * window is visible. Local to this component: nothing else in the app needs it.
 */
export function EngineUsage() {
  const api = useApi();
  const [usage, setUsage] = useState<Usage | null>(null);

  useEffect(() => {
    let live = true;
    const read = () => {
      if (typeof document !== "undefined" && document.visibilityState === "hidden") return;
      api.request("engine.usage", {}).then(
        (u) => live && setUsage(u),
        // The engine is restarting or busy starting up: show nothing rather than an old reading.
        () => live && setUsage(null),
      );
    };
    read();
    const timer = setInterval(read, USAGE_INTERVAL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);

  if (!usage) return null;
  return (
    <p
      className="engine-usage"
      data-testid="engine-usage"
      title={`Engine process (pid ${usage.pid}): resident memory and its share of all CPU cores`}
    >
      Engine · {formatMemory(usage.rssBytes)} · CPU {Math.round(usage.cpuPercent)}%
    </p>
  );
}
