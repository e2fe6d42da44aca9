import { Template } from "@huggingface/jinja";
import type { TextTokenizer } from "./text-tokenizer.js";

// Chat templates are the Jinja strings models ship (GGUF tokenizer.chat_template, or chat_template
// in tokenizer_config.json), rendered with @huggingface/jinja as transformers does.

export interface ChatMessage {
  role: "system" | "user" | "assistant" | (string & {});
  content: string;
  /** Calls an assistant made: templates with tool support write them in their own format. */
  toolCalls?: readonly { name: string; arguments: unknown }[];
}

export interface RenderChatOptions {
  bos_token?: string;
  eos_token?: string;
  /** End with the assistant header so the model writes the reply. Default true. */
  add_generation_prompt?: boolean;
  /** Anything else a template reads (tools, date_string, ...). */
  [variable: string]: unknown;
}

export class ChatTemplateError extends Error {
  override readonly name = "ChatTemplateError";
}

/**
 * For models without a template (base models such as stories260K): plain "User:" / "Assistant:"
 * turns, no special tokens, system text as a leading paragraph. It reads as ordinary prose, which
 * is what a base model continues best; BOS comes from the tokenizer (add_bos_token), not the template.
 */
export const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ message['content'] | trim }}\n\n" +
  "{% elif message['role'] == 'user' %}User: {{ message['content'] | trim }}\n" +
  "{% elif message['role'] == 'assistant' %}Assistant: {{ message['content'] | trim }}\n" +
  "{% else %}{{ message['role'] | capitalize }}: {{ message['content'] | trim }}\n{% endif %}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}Assistant:{% endif %}";

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`The model's chat template does not parse: ${(e as Error).message}`);
    }
    if (compiled.size > 32) compiled.clear(); // a handful of models per session; keep it bounded
    compiled.set(source, t);
  }
  return t;
}

export function renderChat(
  template: string,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions = {},
): string {
  const { add_generation_prompt = true, ...rest } = opts;
  try {
    return compile(template).render({
      messages,
      add_generation_prompt,
      bos_token: "",
      eos_token: "",
      ...rest,
    });
  } catch (e) {
    if (e instanceof ChatTemplateError) throw e;
    // raise_exception() in templates reports misuse such as roles not alternating.
    throw new ChatTemplateError(`Chat template failed: ${(e as Error).message}`);
  }
}

/** The model's template, or the documented fallback when it has none. */
export function chatTemplateFor(tokenizer: Pick<TextTokenizer, "chatTemplate">): {
  template: string;
  fallback: boolean;
} {
  return tokenizer.chatTemplate
    ? { template: tokenizer.chatTemplate, fallback: false }
    : { template: FALLBACK_CHAT_TEMPLATE, fallback: true };
}

/**
 * Messages -> prompt ids: render with the model's own BOS/EOS text, then tokenize with special tokens
 * parsed. BOS is added only when the model wants it and the template did not already write it.
 */
export function encodeChat(
  tokenizer: TextTokenizer,
  messages: readonly ChatMessage[],
  opts: RenderChatOptions = {},
): number[] {
  const { template, fallback } = chatTemplateFor(tokenizer);
  const prompt = renderChat(template, templateMessages(messages, fallback), {
    bos_token: tokenizer.bosToken ?? "",
    eos_token: tokenizer.eosToken ?? "",
    ...opts,
  });
  const startsWithBos =
    tokenizer.bosToken !== undefined && tokenizer.bosToken !== "" && prompt.startsWith(tokenizer.bosToken);
  return tokenizer.encode(prompt, {
    parseSpecial: true,
    addBos: tokenizer.addBos && !startsWithBos,
    addEos: false,
  });
}

/**
 * Messages as templates read them. An assistant's calls go in `tool_calls` (OpenAI's shape, which
 * tool-aware templates such as Qwen's and Llama 3's write in their own markup); the plain fallback
 * has no markup for them, so there they are the message's text, one JSON call per line.
 */
export function templateMessages(
  messages: readonly ChatMessage[],
  fallback: boolean,
): (ChatMessage & { tool_calls?: unknown[] })[] {
  return messages.map(({ toolCalls, ...m }) => {
    if (!toolCalls?.length) return m;
    if (fallback) {
      const calls = toolCalls.map((c) => JSON.stringify({ name: c.name, arguments: c.arguments }));
      return { ...m, content: [m.content, ...calls].filter(Boolean).join("\n") };
    }
    return {
      ...m,
      tool_calls: toolCalls.map((c) => ({
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  });
}
