import { useEffect, useId, useState } from "react";
import type { Conversation } from "../../electron/contract";
import { useActions, useApp } from "../state/context";
import { SamplingForm } from "./SamplingForm";
import { JsonAnswerSettings } from "./JsonAnswerSettings";

const OVERFLOW_CHOICES: ReadonlyArray<[Conversation["overflow"], string]> = [
  ["drop-oldest", "Leave out the oldest messages (the system prompt stays), with a note in the chat"],
  ["stop", "Stop and say so"],
];

/** Per-conversation system prompt, sampling settings, and what happens when the chat outgrows the context. */
export function ConversationSettings() {
  const conversation = useApp((s) => s.conversation);
  const defaults = useApp((s) => s.settings?.defaultSampling);
  const actions = useActions();
  const [prompt, setPrompt] = useState(conversation?.systemPrompt ?? "");
  const [saved, setSaved] = useState(false);
  const promptId = useId();

  useEffect(() => {
    setPrompt(conversation?.systemPrompt ?? "");
    setSaved(false);
  }, [conversation?.id, conversation?.systemPrompt]);

  if (!conversation) return <p className="muted panel-empty">Open or start a chat to change its settings.</p>;

  const dirty = prompt !== conversation.systemPrompt;
  return (
    <div className="conversation-settings">
      <section aria-labelledby={`${promptId}-h`}>
        <h3 id={`${promptId}-h`}>System prompt</h3>
        <label htmlFor={promptId} className="visually-hidden">
          System prompt for this chat
        </label>
        <textarea
          id={promptId}
          className="system-prompt"
          placeholder="For example: You are a concise assistant. Answer in plain English."
          value={prompt}
          rows={5}
          onChange={(e) => {
            setSaved(false);
            setPrompt(e.target.value);
          }}
        />
        <div className="form-actions">
          <span className="muted small" role="status">
            {saved && !dirty ? "Saved" : "Applies to the next answer."}
          </span>
          <button
            type="button"
            className="btn btn-primary"
            disabled={!dirty}
            onClick={async () => {
              if (await actions.updateConversation({ systemPrompt: prompt })) setSaved(true);
            }}
          >
            Save prompt
          </button>
        </div>
      </section>
      <section aria-labelledby={`${promptId}-s`}>
        <h3 id={`${promptId}-s`}>Sampling</h3>
        <SamplingForm
          value={conversation.sampling}
          defaults={defaults}
          onSave={(sampling) => actions.updateConversation({ sampling })}
          idPrefix="conv"
        />
      </section>
      <JsonAnswerSettings conversation={conversation} />
      <fieldset className="overflow-choice">
        <legend>When the chat no longer fits the context</legend>
        {OVERFLOW_CHOICES.map(([value, label]) => (
          <label key={value}>
            <input
              type="radio"
              name={`${promptId}-overflow`}
              value={value}
              checked={conversation.overflow === value}
              onChange={() => void actions.updateConversation({ overflow: value })}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
    </div>
  );
}
