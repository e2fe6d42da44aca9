// The server's reading of response_format, tools and tool_choice, without an engine.
import { describe, expect, it } from "vitest";
import { OpenAiError } from "./errors.js";
import { ChatRequest, hostMessages } from "./requests.js";
import { ForcedCallStream, outputPlan, parseAutoCalls, type Tool } from "./structured.js";

const weather: Tool = {
  type: "function",
  function: {
    name: "weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};
const time: Tool = { type: "function", function: { name: "time" } };

describe("output plan", () => {
  it("forces a call to the named function, or to any of the tools when required", () => {
    const named = outputPlan({
      tools: [weather, time],
      tool_choice: { type: "function", function: { name: "time" } },
    });
    expect(named.forcedTools).toEqual([time]);
    expect(named.constraint).toEqual({
      type: "json_schema",
      schema: {
        type: "object",
        properties: {
          name: { const: "time" },
          arguments: { type: "object", properties: {}, additionalProperties: false },
        },
        required: ["name", "arguments"],
        additionalProperties: false,
      },
    });
    const any = outputPlan({ tools: [weather, time], tool_choice: "required" });
    expect((any.constraint as unknown as { schema: { anyOf: unknown[] } }).schema.anyOf).toHaveLength(2);
  });

  it("auto sends the tools to the template and constrains nothing; none ignores them", () => {
    expect(outputPlan({ tools: [weather] })).toEqual({ autoTools: [weather] });
    expect(
      outputPlan({ tools: [weather], tool_choice: "none", response_format: { type: "json_object" } }),
    ).toEqual({
      constraint: { type: "json_object" },
    });
    expect(outputPlan({ response_format: { type: "text" } })).toEqual({});
  });

  it("answers a request it cannot honour with a 400 naming why", () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as OpenAiError;
      }
      throw new Error("no error");
    };
    const unknown = err(() =>
      outputPlan({ tools: [weather], tool_choice: { type: "function", function: { name: "nope" } } }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain('"nope"');
    const bad = err(() =>
      outputPlan({
        response_format: {
          type: "json_schema",
          json_schema: { name: "x", schema: { type: "object", minProperties: 1 } },
        },
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.code).toBe("unsupported_schema");
    expect(bad.param).toBe("response_format.json_schema.schema");
    expect(bad.message).toContain('"minProperties"');
    const inTool = err(() =>
      outputPlan({
        tools: [{ type: "function", function: { name: "f", parameters: { not: {} } } }],
        tool_choice: "auto",
      }),
    );
    expect(inTool.param).toBe("tools[0].function.parameters");
  });
});

describe("calls a model wrote on its own", () => {
  it("are read from <tool_call> tags or a whole-answer call, for known tools only", () => {
    const tagged = parseAutoCalls(
      'Let me check.\n<tool_call>\n{"name": "weather", "arguments": {"city": "Ur"}}\n</tool_call>',
      [weather],
    );
    expect(tagged).toMatchObject([
      { type: "function", function: { name: "weather", arguments: '{"city":"Ur"}' } },
    ]);
    expect(parseAutoCalls('{"name": "weather", "parameters": {"city": "Ur"}}', [weather])).toHaveLength(1);
    expect(parseAutoCalls('{"name": "launch", "arguments": {}}', [weather])).toEqual([]);
    expect(parseAutoCalls("It is sunny in Ur.", [weather])).toEqual([]);
  });
});

describe("tool turns for the engine", () => {
  it("an assistant's calls become its content as JSON, and a tool's result a tool turn", () => {
    const request = ChatRequest.parse({
      model: "m",
      messages: [
        { role: "user", content: "Weather in Ur?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Ur"}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
      ],
    });
    expect(hostMessages(request)).toEqual([
      { role: "user", content: "Weather in Ur?" },
      { role: "assistant", content: "", toolCalls: [{ name: "weather", arguments: { city: "Ur" } }] },
      { role: "tool", content: "sunny" },
    ]);
  });
});

describe("a forced call, streamed", () => {
  it("sends the id and name once written, then the arguments as they come, never the wrapper's brace", () => {
    const deltas: Record<string, unknown>[] = [];
    const stream = new ForcedCallStream((d) => deltas.push(d));
    for (const piece of ['{"na', 'me":"weather",', '"arguments":{"ci', 'ty":"U', 'r"}', "}"])
      stream.push(piece);
    const first = deltas[0] as {
      tool_calls: { id: string; function: { name: string; arguments: string } }[];
    };
    expect(first.tool_calls[0].function).toEqual({ name: "weather", arguments: "" });
    expect(first.tool_calls[0].id).toMatch(/^call_/);
    const args = deltas
      .slice(1)
      .map(
        (d) => (d as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0].function.arguments,
      )
      .join("");
    expect(args).toBe('{"city":"Ur"}');
    expect(deltas.length).toBeGreaterThan(2); // arguments in pieces, not at the end
  });
});
