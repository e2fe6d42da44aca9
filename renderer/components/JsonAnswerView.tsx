// A finished answer that is JSON (a chat set to "answer as JSON") is shown as JSON, indented, and
// one shaped as a function call ({"name": …, "arguments": {…}}, what a forced tool call writes)
// as that call: the function's name, then its arguments. Anything else stays Markdown.

export type JsonShape =
  { kind: "call"; name: string; arguments: unknown } | { kind: "json"; value: unknown } | null;

/** What `text` is, when it is a whole JSON object or array. */
export function jsonShape(text: string): JsonShape {
  const t = text.trim();
  if (!(t.startsWith("{") && t.endsWith("}")) && !(t.startsWith("[") && t.endsWith("]"))) return null;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return null;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    const keys = Object.keys(v);
    if (keys.length === 2 && typeof v.name === "string" && "arguments" in v)
      return { kind: "call", name: v.name, arguments: v.arguments };
  }
  return { kind: "json", value };
}

export function JsonAnswerView({ shape }: { shape: NonNullable<JsonShape> }) {
  if (shape.kind === "call")
    return (
      <div className="tool-call" data-testid="tool-call">
        <p className="tool-call-head">
          <span className="badge">Tool call</span> <code>{shape.name}</code>
        </p>
        <pre className="json-view">
          <code>{JSON.stringify(shape.arguments, null, 2)}</code>
        </pre>
      </div>
    );
  return (
    <div className="json-answer-view" data-testid="json-answer">
      <span className="badge">JSON</span>
      <pre className="json-view">
        <code>{JSON.stringify(shape.value, null, 2)}</code>
      </pre>
    </div>
  );
}
