import { useEffect, useId, useState } from "react";
import type { Conversation } from "../../electron/contract";
import { useActions, useApi } from "../state/context";

/** What the schema editor says about its text: empty (any JSON object), fine, or what is wrong. */
type Verdict = { ok: true; schema: Record<string, unknown> | null } | { ok: false; message: string };

const schemaText = (c: Conversation) =>
  c.jsonAnswer?.schema ? JSON.stringify(c.jsonAnswer.schema, null, 2) : "";

/**
 * "Answer as JSON": the chat's answers are written as JSON valid against a schema (or any JSON
 * object when the schema is left empty). The schema is checked as you type, first as JSON here,
 * then by the back end against what the engine can enforce, so Save is only offered for a schema
 * the next answer will honour.
 */
export function JsonAnswerSettings({ conversation }: { conversation: Conversation }) {
  const actions = useActions();
  const api = useApi();
  const id = useId();
  const [text, setText] = useState(schemaText(conversation));
  const [verdict, setVerdict] = useState<Verdict>({
    ok: true,
    schema: conversation.jsonAnswer?.schema ?? null,
  });
  const on = !!conversation.jsonAnswer;

  useEffect(() => setText(schemaText(conversation)), [conversation]);

  useEffect(() => {
    if (!text.trim()) {
      setVerdict({ ok: true, schema: null });
      return;
    }
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (err) {
      setVerdict({ ok: false, message: `Not JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      setVerdict({ ok: false, message: "A JSON Schema is an object ({ … })." });
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api.request("chat.checkSchema", { schema }).then(
        (r) =>
          current &&
          setVerdict(
            r.ok
              ? { ok: true, schema: schema as Record<string, unknown> }
              : { ok: false, message: r.message ?? "Not supported." },
          ),
        () => undefined,
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [text, api]);

  const saved = JSON.stringify(conversation.jsonAnswer?.schema ?? null);
  const dirty = verdict.ok && JSON.stringify(verdict.schema) !== saved;
  return (
    <section aria-labelledby={`${id}-h`} className="json-answer">
      <h3 id={`${id}-h`}>Answer as JSON</h3>
      <label>
        <input
          type="checkbox"
          checked={on}
          onChange={(e) =>
            void actions.updateConversation({
              jsonAnswer: e.target.checked ? { schema: verdict.ok ? verdict.schema : null } : null,
            })
          }
        />{" "}
        Answers are JSON, written to the schema below (empty: any JSON object)
      </label>
      {on && (
        <>
          <label htmlFor={`${id}-schema`} className="visually-hidden">
            JSON Schema for the answers
          </label>
          <textarea
            id={`${id}-schema`}
            className="json-schema"
            spellCheck={false}
            rows={8}
            placeholder='{"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}'
            value={text}
            aria-invalid={!verdict.ok}
            aria-describedby={`${id}-verdict`}
            onChange={(e) => setText(e.target.value)}
          />
          <div className="form-actions">
            <span
              id={`${id}-verdict`}
              className={verdict.ok ? "muted small" : "small error-text"}
              role="status"
            >
              {verdict.ok ? (verdict.schema ? "Schema OK" : "Any JSON object") : verdict.message}
            </span>
            <button
              type="button"
              className="btn btn-primary"
              disabled={!dirty}
              onClick={() =>
                verdict.ok && void actions.updateConversation({ jsonAnswer: { schema: verdict.schema } })
              }
            >
              Save schema
            </button>
          </div>
        </>
      )}
    </section>
  );
}
