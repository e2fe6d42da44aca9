/** Saves text as a file through a Blob and a temporary <a download> (no server round trip). */
export function downloadText(
  filename: string,
  text: string,
  type = "text/markdown;charset=utf-8",
  doc: Document = document,
): void {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = doc.createElement("a");
  a.href = url;
  a.download = safeFilename(filename);
  a.rel = "noopener";
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Removes characters that no file system accepts; keeps a .md suffix. */
export function safeFilename(name: string): string {
  const printable = Array.from(name, (c) => (c.charCodeAt(0) < 32 ? "-" : c)).join("");
  const cleaned = printable
    .replace(/[\\/:*?"<>|]+/g, "-")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 120);
  const base = cleaned || "conversation";
  return /\.(md|markdown|txt)$/i.test(base) ? base : `${base}.md`;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the textarea fallback
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "visually-hidden";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}
