// POST /v1/chat/completions and /v1/completions: one answer, returned whole or streamed as
// server-sent events (`data: {chunk}` ... `data: [DONE]`), in the objects OpenAI's clients read.
// Exitlane's extension rides along: every chunk carries `exitlane: { exit_layer, layers }` (the
// token's exit layer; the mean for the whole answer), and `exitlane.knob` in the request sets the
// speed/accuracy knob for that request.
import { randomUUID } from "node:crypto";
import type { GenerationStats, Sampling, StopReason } from "../../../wire/generation.js";
import { OpenAiError } from "./errors.js";
import {
  ChatRequest,
  CompletionRequest,
  describeIssues,
  hostMessages,
  promptText,
  stopStrings,
  toSampling,
} from "./requests.js";
import { checkModel, runGeneration, type GenerationDeps, type GenerationInput } from "./run-generation.js";
import { invalidRequest } from "./errors.js";
import { ForcedCallStream, forcedCall, outputPlan, parseAutoCalls, type ToolCall } from "./structured.js";

export interface CompletionDeps extends GenerationDeps {
  /** The app's defaults for what a request leaves out. */
  defaults(): { sampling: Sampling; knob: number };
}

/** How the HTTP layer lets an endpoint answer. */
export interface Reply {
  json(status: number, body: unknown): void;
  /** Sends the event-stream headers (once) and one `data:` event. */
  event(data: unknown): void;
  /** Ends an event stream with `data: [DONE]`. */
  done(): void;
  readonly streaming: boolean;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
}

type Kind = "chat" | "text";

export async function complete(kind: Kind, body: unknown, deps: CompletionDeps, reply: Reply): Promise<void> {
  const parsed = (kind === "chat" ? ChatRequest : CompletionRequest).safeParse(body);
  if (!parsed.success) {
    const { message, param } = describeIssues(parsed.error);
    throw invalidRequest(message, param);
  }
  const request = parsed.data;
  const plan = outputPlan(request);
  await checkModel(deps, request.model);
  const defaults = deps.defaults();
  const input: GenerationInput = {
    modelId: request.model,
    ...(kind === "chat"
      ? { messages: hostMessages(request as ChatRequest) }
      : { prompt: promptText(request as CompletionRequest) }),
    stop: stopStrings(request),
    sampling: toSampling(request, defaults.sampling),
    knob: request.exitlane?.knob ?? defaults.knob,
    ...(plan.constraint ? { constraint: plan.constraint } : {}),
    ...(plan.autoTools ? { tools: plan.autoTools } : {}),
  };
  // A forced call streams as tool_calls deltas; an "auto" answer may turn out to be a call, so it
  // is held back and sent at the end, as a call or as text.
  const holdBack = kind === "chat" && !!plan.autoTools && !plan.forcedTools;
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`;
  const base = {
    id,
    object: kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model,
  };
  const choice = (text: string | null, finish: string | null, first: boolean) =>
    kind === "chat"
      ? {
          index: 0,
          delta:
            text === null
              ? first
                ? { role: "assistant" }
                : {}
              : { ...(first ? { role: "assistant" } : {}), content: text },
          finish_reason: finish,
          logprobs: null,
        }
      : { index: 0, text: text ?? "", finish_reason: finish, logprobs: null };

  let text = "";
  let streamedTokens = 0;
  let lastExitLayer = 0;
  let layerCount = 0;
  const forced =
    request.stream && plan.forcedTools
      ? new ForcedCallStream((delta) => {
          reply.event({
            ...base,
            choices: [{ index: 0, delta, finish_reason: null, logprobs: null }],
            exitlane: { exit_layer: lastExitLayer, layers: layerCount },
          });
          streamedTokens += 1;
        })
      : null;
  const { stats, layers } = await runGeneration(deps, input, reply.signal, (token, modelLayers) => {
    text += token.text;
    lastExitLayer = token.exitLayer;
    layerCount = modelLayers;
    if (forced) return forced.push(token.text);
    if (!request.stream || holdBack) return;
    reply.event({
      ...base,
      choices: [choice(token.text, null, streamedTokens === 0)],
      exitlane: { exit_layer: token.exitLayer, layers: modelLayers },
    });
    streamedTokens += 1;
  });
  if (reply.signal.aborted) return; // Nobody is listening any more.
  // The end the engine held back (a possible stop-string start) is the answer's, sent last.
  if (stats.tail) {
    text += stats.tail;
    forced?.push(stats.tail);
    if (request.stream && !holdBack && !forced)
      reply.event({
        ...base,
        choices: [choice(stats.tail, null, streamedTokens === 0)],
        exitlane: { exit_layer: lastExitLayer, layers },
      });
  }
  let finish: string = finishReason(stats.stopReason);
  let calls: ToolCall[] = [];
  // A forced call that ended on its own always parses; one cut off by max_tokens stays text.
  if (plan.forcedTools && finish === "stop") calls = forcedCall(text);
  else if (plan.autoTools && finish === "stop") calls = parseAutoCalls(text, plan.autoTools);
  if (calls.length) finish = "tool_calls";
  const usage = usageOf(stats);
  const exitlane = { exit_layer: stats.meanExitLayer, layers };
  if (!request.stream) {
    reply.json(200, {
      ...base,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      choices: [
        kind === "chat"
          ? {
              index: 0,
              message: calls.length
                ? { role: "assistant", content: null, tool_calls: calls }
                : { role: "assistant", content: text },
              finish_reason: finish,
              logprobs: null,
            }
          : { index: 0, text, finish_reason: finish, logprobs: null },
      ],
      usage,
      exitlane,
    });
    return;
  }
  // A forced call cut off before its name was complete never streamed: its text is all there is.
  if (forced && !forced.begun && text) {
    reply.event({ ...base, choices: [choice(text, null, streamedTokens === 0)], exitlane });
    streamedTokens += 1;
  }
  if (holdBack) {
    const delta = calls.length
      ? { role: "assistant", content: null, tool_calls: calls.map((c, index) => ({ index, ...c })) }
      : { role: "assistant", content: text };
    reply.event({ ...base, choices: [{ index: 0, delta, finish_reason: null, logprobs: null }], exitlane });
    streamedTokens += 1;
  }
  reply.event({ ...base, choices: [choice(null, finish, streamedTokens === 0)], exitlane });
  if (request.stream_options?.include_usage) reply.event({ ...base, choices: [], usage, exitlane });
  reply.done();
}

function finishReason(stopReason: StopReason): "stop" | "length" {
  switch (stopReason) {
    case "eos":
    case "stop_string":
      return "stop";
    case "max_tokens":
    case "context_full":
      return "length";
    default:
      throw new OpenAiError(500, "server_error", stopReason, `The answer ended early (${stopReason}).`);
  }
}

function usageOf(stats: GenerationStats) {
  const prompt = stats.promptTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: stats.tokens, total_tokens: prompt + stats.tokens };
}
