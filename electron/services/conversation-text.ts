// Text the conversation list shows: a chat's title from its first message (numbered when another
// chat already has it, so five chats that start alike stay apart) and, for a search, the words
// around the match.

/** The first line of the first message, shortened to 60 characters. */
export function titleFrom(text: string, fallback: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 60 ? `${line.slice(0, 57).trimEnd()}…` : line || fallback;
}

/** `title`, or "title (2)", "title (3)"… : the first that is not `taken`. */
export function distinctTitle(title: string, taken: ReadonlySet<string>): string {
  if (!taken.has(title)) return title;
  for (let n = 2; ; n++) if (!taken.has(`${title} (${n})`)) return `${title} (${n})`;
}

const BEFORE = 40;
const AFTER = 90;

/**
 * The part of `text` around the first case-insensitive occurrence of `query`, on one line, with
 * "…" where it was cut; undefined when the text does not contain it.
 */
export function snippetAround(text: string, query: string): string | undefined {
  const q = query.trim().toLowerCase();
  const at = q ? text.toLowerCase().indexOf(q) : -1;
  if (at === -1) return undefined;
  let start = Math.max(0, at - BEFORE);
  let end = Math.min(text.length, at + q.length + AFTER);
  // Cut at spaces, not inside words, where there is one near.
  if (start > 0) {
    const space = text.indexOf(" ", start);
    if (space !== -1 && space < at) start = space + 1;
  }
  if (end < text.length) {
    const space = text.lastIndexOf(" ", end);
    if (space > at + q.length) end = space;
  }
  const body = text.slice(start, end).replace(/\s+/g, " ").trim();
  return `${start > 0 ? "…" : ""}${body}${end < text.length ? "…" : ""}`;
}
