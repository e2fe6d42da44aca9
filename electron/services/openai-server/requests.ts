// What the server accepts: the parts of OpenAI's chat-completions and completions request bodies
// that a local engine can honour (other fields, like penalties or `user`, are accepted and
// ignored), and how they become the engine's sampling settings. Sampling defaults are the app's
// own (settings.defaultSampling), not OpenAI's: a client that sends nothing gets what the app's
// chats get. `temperature: 0` is plain greedy decoding (no repetition penalty, no min-p).
import { z } from "zod";
import type { Sampling } from "../../../wire/generation.js";
import type { HostChatMessage } from "../../../native-models/host/protocol.js";
import { ResponseFormat, Tool, ToolChoice } from "./structured.js";

const MAX_TOKENS = 32768;

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

const AssistantToolCall = z.object({
  id: z.string().nullish(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const ChatMessage = z.object({
  // "developer" is the newer name OpenAI's clients use for "system"; "tool" is a function's result.
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
  tool_calls: z.array(AssistantToolCall).nullish(),
  tool_call_id: z.string().nullish(),
});

/** Fields both endpoints share. */
const common = {
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).max(16)]).nullish(),
  n: z.literal(1).nullish(),
  /** Exitlane's extension: the speed/accuracy knob (0 exact .. 1 fastest) for this request. */
  exitlane: z.object({ knob: z.number().min(0).max(1).optional() }).nullish(),
  /** The answer's shape: a JSON Schema or any JSON object, enforced while it is written. */
  response_format: ResponseFormat.nullish(),
};

export const ChatRequest = z.object({
  ...common,
  messages: z.array(ChatMessage).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
  tools: z.array(Tool).max(128).nullish(),
  tool_choice: ToolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const CompletionRequest = z.object({
  ...common,
  prompt: z.union([z.string().min(1), z.tuple([z.string().min(1)])]),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/**
 * The messages for the engine: a call the assistant made travels with its arguments parsed (the
 * template writes it in its own format), a tool's result is a "tool" turn.
 */
export function hostMessages(request: ChatRequest): HostChatMessage[] {
  return request.messages.map((m) => {
    const text = typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => p.text).join("");
    const calls = (m.tool_calls ?? []).map((c) => ({
      name: c.function.name,
      arguments: parseArguments(c.function.arguments),
    }));
    return {
      role: m.role === "developer" ? "system" : m.role,
      content: text,
      ...(calls.length ? { toolCalls: calls } : {}),
    };
  });
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function promptText(request: CompletionRequest): string {
  return typeof request.prompt === "string" ? request.prompt : request.prompt[0];
}

export function stopStrings(request: ChatRequest | CompletionRequest): string[] | undefined {
  if (request.stop == null) return undefined;
  return typeof request.stop === "string" ? [request.stop] : request.stop;
}

export function toSampling(request: ChatRequest | CompletionRequest, defaults: Sampling): Sampling {
  const temperature = request.temperature ?? defaults.temperature;
  const maxTokens =
    ("max_completion_tokens" in request ? request.max_completion_tokens : null) ??
    request.max_tokens ??
    defaults.maxTokens;
  const greedy = temperature === 0;
  return {
    ...defaults,
    temperature,
    topP: request.top_p ?? defaults.topP,
    minP: greedy ? 0 : defaults.minP,
    repetitionPenalty: greedy ? 1 : defaults.repetitionPenalty,
    maxTokens: Math.min(maxTokens, MAX_TOKENS),
    // OpenAI takes any integer; the engine's seeds are 31-bit.
    seed: request.seed == null ? defaults.seed : Math.abs(request.seed) % 2 ** 31,
  };
}

/** "What is wrong" for a 400: the first issues zod found, with where. */
export function describeIssues(error: z.ZodError): { message: string; param: string | null } {
  const first = error.issues[0];
  const param = first?.path.length ? first.path.join(".") : null;
  const message = error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  return { message: `Invalid request body: ${message}`, param };
}
