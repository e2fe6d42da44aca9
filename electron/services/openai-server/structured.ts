// Structured answers on the server: `response_format` (a JSON Schema, or any JSON object) and
// forced tool calls (`tool_choice: "required"` or a named function) become a constraint the engine
// enforces token by token; a forced call's answer is the JSON `{"name": …, "arguments": {…}}`,
// handed back as `tool_calls`. With `tool_choice: "auto"` the tools go to the chat template and a
// call the model writes in a common format is parsed back out (unconstrained).
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { OutputConstraint } from "../../../wire/structured.js";
import { checkConstraint, UnsupportedSchemaError } from "../../../native-models/runtime/grammar/check.js";
import { invalidRequest } from "./errors.js";

const JsonSchema = z.record(z.string(), z.unknown());

export const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
      description: z.string().nullish(),
      schema: JsonSchema.nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const Tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
    description: z.string().nullish(),
    parameters: JsonSchema.nullish(),
    strict: z.boolean().nullish(),
  }),
});
export type Tool = z.infer<typeof Tool>;

export const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
]);

export interface StructuredRequest {
  response_format?: z.infer<typeof ResponseFormat> | null;
  tools?: Tool[] | null;
  tool_choice?: z.infer<typeof ToolChoice> | null;
}

export interface OutputPlan {
  constraint?: OutputConstraint;
  /** The answer is a forced call to one of these functions. */
  forcedTools?: Tool[];
  /** Tools the model may call on its own (auto): they go to the template and calls are parsed back. */
  autoTools?: Tool[];
}

/** What the request asks the answer to be; an unsupported schema is a 400 naming the keyword. */
export function outputPlan(request: StructuredRequest): OutputPlan {
  const tools = request.tools ?? [];
  const choice = request.tool_choice ?? (tools.length ? "auto" : "none");
  if (choice !== "none" && choice !== "auto" && !tools.length)
    throw invalidRequest("tool_choice needs tools", "tool_choice");
  tools.forEach((t, i) => check(parametersOf(t), `tools[${i}].function.parameters`));
  if (choice === "required" || typeof choice === "object") {
    const forced =
      typeof choice === "object" ? tools.filter((t) => t.function.name === choice.function.name) : tools;
    if (!forced.length)
      throw invalidRequest(
        `tool_choice names "${(choice as { function: { name: string } }).function.name}", which is not among the tools`,
        "tool_choice",
      );
    const calls = forced.map((t) => callSchema(t));
    return {
      constraint: { type: "json_schema", schema: calls.length === 1 ? calls[0] : { anyOf: calls } },
      forcedTools: forced,
    };
  }
  const format = request.response_format;
  const constraint: OutputConstraint | undefined =
    format?.type === "json_object"
      ? { type: "json_object" }
      : format?.type === "json_schema"
        ? { type: "json_schema", schema: format.json_schema.schema ?? {} }
        : undefined;
  if (constraint?.type === "json_schema") check(constraint.schema, "response_format.json_schema.schema");
  return {
    ...(constraint ? { constraint } : {}),
    ...(choice === "auto" && tools.length ? { autoTools: tools } : {}),
  };
}

function parametersOf(t: Tool): Record<string, unknown> {
  return t.function.parameters ?? { type: "object", properties: {}, additionalProperties: false };
}

/** A call's JSON: the function's name, then arguments valid against its parameters. */
function callSchema(t: Tool): Record<string, unknown> {
  return {
    type: "object",
    properties: { name: { const: t.function.name }, arguments: parametersOf(t) },
    required: ["name", "arguments"],
    additionalProperties: false,
  };
}

function check(schema: Record<string, unknown>, param: string): void {
  try {
    checkConstraint({ type: "json_schema", schema });
  } catch (err) {
    if (err instanceof UnsupportedSchemaError) throw invalidRequest(err.message, param, "unsupported_schema");
    throw err;
  }
}

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A forced call's answer (always parses when it ended on its own) as OpenAI's tool_calls. */
export function forcedCall(text: string): ToolCall[] {
  const call = JSON.parse(text) as { name: string; arguments: unknown };
  return [toolCall(call.name, call.arguments)];
}

/**
 * Calls a model wrote on its own, in the formats chat templates teach: `<tool_call>{…}</tool_call>`
 * (Hermes, Qwen) or the whole answer as `{"name": …, "arguments"|"parameters": {…}}` (Llama 3).
 * Only calls to the given tools count; anything else stays text.
 */
export function parseAutoCalls(text: string, tools: readonly Tool[]): ToolCall[] {
  const names = new Set(tools.map((t) => t.function.name));
  const found: ToolCall[] = [];
  const bodies = [...text.matchAll(/<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g)].map((m) => m[1]);
  if (!bodies.length) bodies.push(text.trim());
  for (const body of bodies) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    const v = value as { name?: unknown; arguments?: unknown; parameters?: unknown };
    if (typeof v.name !== "string" || !names.has(v.name)) continue;
    found.push(toolCall(v.name, v.arguments ?? v.parameters ?? {}));
  }
  return found;
}

function toolCall(name: string, args: unknown): ToolCall {
  return {
    id: `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    type: "function",
    function: { name, arguments: JSON.stringify(args) },
  };
}

/**
 * A forced call streamed the way OpenAI streams one: a first `tool_calls` delta with the call's id
 * and name as soon as `{"name":…,"arguments":` is written, then the arguments as they come. The
 * wrapper's closing brace comes last, so the newest character is always held back (and dropped).
 */
export class ForcedCallStream {
  private text = "";
  private sent = 0;
  private started = false;

  constructor(private readonly emit: (delta: Record<string, unknown>) => void) {}

  push(piece: string): void {
    this.text += piece;
    if (!this.started) {
      const head = /^\{"name":("(?:[^"\\]|\\.)*"),"arguments":/.exec(this.text);
      if (!head) return;
      this.started = true;
      this.sent = head[0].length;
      const call = toolCall(JSON.parse(head[1]) as string, {});
      this.emit({
        role: "assistant",
        content: null,
        tool_calls: [
          { index: 0, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } },
        ],
      });
    }
    const upto = this.text.length - 1;
    if (upto <= this.sent) return;
    this.emit({ tool_calls: [{ index: 0, function: { arguments: this.text.slice(this.sent, upto) } }] });
    this.sent = upto;
  }

  /** Whether any of the call was sent (the name at least). */
  get begun(): boolean {
    return this.started;
  }
}
