// Markdown export of one conversation: readable on its own, with each answer's statistics.
import type { Conversation, Message } from "../contract.js";

const SPEAKER = { system: "System", user: "You", assistant: "Assistant" } as const;

export function conversationToMarkdown(
  conversation: Conversation,
  messages: Message[],
  exportedAt = new Date(),
) {
  const lines = [
    `# ${conversation.title}`,
    "",
    `_Exported from Exitlane on ${exportedAt.toISOString().slice(0, 10)}._`,
    "",
  ];
  if (conversation.systemPrompt.trim())
    lines.push("**System prompt:**", "", quote(conversation.systemPrompt), "");
  for (const message of messages) {
    const model = message.role === "assistant" && message.modelId ? ` · ${message.modelId}` : "";
    lines.push(`## ${SPEAKER[message.role]}${model}`, "", message.content, "");
    if (message.stats) {
      const s = message.stats;
      lines.push(
        `_${s.tokens} tokens · ${s.tokensPerSecond.toFixed(1)} tokens/s · first token ${Math.round(s.timeToFirstTokenMs)} ms` +
          ` · mean exit layer ${s.meanExitLayer.toFixed(1)} of ${s.layers} · ${s.stopReason.replace("_", " ")}_`,
        "",
      );
    }
  }
  return { filename: `${slug(conversation.title)}.md`, markdown: lines.join("\n") };
}

function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

/** A file name that is safe on every platform. */
export function slug(title: string): string {
  const cleaned = title
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .replace(/[\s_]+/g, "-")
    .toLowerCase()
    .slice(0, 60)
    .replace(/-+$/, "");
  return cleaned || "conversation";
}
