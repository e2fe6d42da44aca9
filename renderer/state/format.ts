// Display formatting, pure.

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** Binary units for memory sizes (what operating systems show for RAM). */
export function formatMemory(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return "—";
  const gib = bytes / 2 ** 30;
  if (gib >= 1) return `${gib.toFixed(gib < 10 ? 1 : 0)} GiB`;
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** 260000 -> "260K", 1.1e9 -> "1.1B". */
export function formatParams(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "—";
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [scale, suffix] of units) {
    if (n >= scale) {
      const v = n / scale;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? trim(v.toFixed(1)) : trim(v.toFixed(2))}${suffix}`;
    }
  }
  return String(Math.round(n));
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatRate(tokensPerSecond: number): string {
  if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) return "—";
  return `${tokensPerSecond < 10 ? tokensPerSecond.toFixed(1) : Math.round(tokensPerSecond)} tok/s`;
}

/** "Today 14:03", "Yesterday", "12 Mar" — for the conversation list. */
export function formatWhen(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const startOfDay = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
  if (days <= 0) return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (days === 1) return "Yesterday";
  if (days < 7) return d.toLocaleDateString(undefined, { weekday: "short" });
  return d.toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    year: d.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
}

const stopReasons: Record<string, string> = {
  eos: "",
  max_tokens: "Reached the token limit",
  stopped: "Stopped",
  error: "Ended with an error",
  context_full: "The context window is full",
  interrupted: "Interrupted",
};

export function describeStopReason(reason: string): string {
  return stopReasons[reason] ?? reason;
}

/** The note an answer carries when older parts of the chat were left out to fit the context. */
export function describeContextTrim(stats: { droppedMessages?: number; droppedTokens?: number }): string {
  if (stats.droppedMessages)
    return `${stats.droppedMessages === 1 ? "The oldest message was" : `The ${stats.droppedMessages} oldest messages were`} left out so the chat fits the model's context.`;
  if (stats.droppedTokens)
    return `The beginning of the text (${stats.droppedTokens} tokens) was left out so it fits the model's context.`;
  return "";
}

function trim(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** " 45%" while `modelId` is loading and the engine has reported how far; "" otherwise. */
export function formatLoadProgress(
  loading: { modelId: string; progress: number } | undefined,
  modelId: string | null,
): string {
  return loading && loading.modelId === modelId ? ` ${Math.round(loading.progress * 100)}%` : "";
}

/** A download's speed: 1_234_567 B/s -> "1.2 MB/s" (decimal units, as file sizes are shown). */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return "—";
  const mb = bytesPerSecond / 1e6;
  if (mb >= 1) return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB/s`;
  return `${Math.max(1, Math.round(bytesPerSecond / 1e3))} KB/s`;
}

/** Time left: null -> "—", 42 -> "42 s left", 95 -> "1 min 35 s left", 7300 -> "2 h 1 min left". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s left`;
  if (s < 3600) {
    const rest = s % 60;
    return `${Math.floor(s / 60)} min${rest ? ` ${rest} s` : ""} left`;
  }
  const min = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${min ? ` ${min} min` : ""} left`;
}
