// Structured output through the local server, end to end: the official `openai` client over real
// HTTP against the whole back end and the real engine host with kjv16 (a real 16-layer model,
// trained on the King James Bible; a base model, so chats go through the plain fallback template).
// Sampled at temperature 0.9, every answer that ends on its own parses and validates, streamed or
// not; forced tool calls validate and end with "tool_calls"; unsupported schemas are a 400.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Ajv from "ajv";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerStatus } from "../../contract.js";
import { startRealBackend, type RealBackend } from "../../test-support/real-backend.js";
import { freePort } from "../../test-support/free-port.js";
import { haveShared, kjv16 } from "../../../native-models/test-support/shared-fixtures.js";
import { SCHEMAS } from "../../../native-models/test-support/json-schemas.js";
import { importModel } from "../../../native-models/engine/import-model.js";

const available = haveShared("models/kjv16/kjv16-q8_0.gguf");
const ajv = new Ajv({ strict: false });
const SEEDS = [1, 2, 3];
const MAX_TOKENS = 160;

interface Call {
  id?: string;
  function?: { name?: string; arguments?: string };
}

describe.skipIf(!available)("local server on kjv16: structured output and tool calls", () => {
  let b: RealBackend;
  let client: OpenAI;
  let model: string;
  let status: ServerStatus;

  beforeAll(async () => {
    const userDataDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-json-server-"));
    const imported = await importModel(kjv16.ggufQ8, {
      modelsDir: path.join(userDataDir, "models"),
      quant: "int8",
      threads: 2,
    });
    model = imported.manifest.id;
    b = await startRealBackend({ stories: false, userDataDir });
    await b.call("models.select", { id: model });
    await b.call("settings.set", { server: { enabled: true, port: await freePort() } });
    status = await b.call<ServerStatus>("server.status", {});
    client = new OpenAI({ baseURL: status.url!, apiKey: status.apiKey!, maxRetries: 0 });
  }, 180_000);
  afterAll(() => b?.close());

  const messages = [{ role: "user" as const, content: "Answer in JSON. Who went down into Egypt?" }];

  /** One answer's text and finish reason, streamed or whole. */
  async function ask(body: Record<string, unknown>, stream: boolean) {
    if (!stream) {
      const r = await client.chat.completions.create({ model, messages, ...body, stream: false } as never);
      const c = (r as OpenAI.ChatCompletion).choices[0];
      return {
        text: c.message.content ?? "",
        finish: c.finish_reason,
        calls: (c.message.tool_calls ?? []) as Call[],
        tokens: (r as OpenAI.ChatCompletion).usage!.completion_tokens,
      };
    }
    const s = (await client.chat.completions.create({
      model,
      messages,
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    } as never)) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let text = "";
    let finish: string | null = null;
    let tokens = 0;
    const calls: Call[] = [];
    for await (const chunk of s) {
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? "";
      for (const t of c.delta.tool_calls ?? []) {
        const call = (calls[t.index] ??= { function: { name: "", arguments: "" } });
        if (t.id) call.id = t.id;
        call.function!.name += t.function?.name ?? "";
        call.function!.arguments += t.function?.arguments ?? "";
      }
      finish = c.finish_reason ?? finish;
    }
    return { text, finish, calls, tokens };
  }

  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`${name}: sampled answers that stop parse and validate, streamed and not`, async () => {
      const validate = ajv.compile(schema);
      let stopped = 0;
      let total = 0;
      for (const stream of [false, true]) {
        for (const seed of SEEDS) {
          const r = await ask(
            {
              max_tokens: MAX_TOKENS,
              temperature: 0.9,
              seed,
              response_format: { type: "json_schema", json_schema: { name, schema, strict: true } },
            },
            stream,
          );
          total++;
          if (r.finish !== "stop") {
            expect(r.finish).toBe("length");
            continue;
          }
          stopped++;
          expect(validate(JSON.parse(r.text)), `${r.text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          expect(r.tokens).toBeLessThanOrEqual(MAX_TOKENS);
        }
      }
      console.log(`[server json] ${name}: ${stopped}/${total} ended with "stop" within ${MAX_TOKENS} tokens`);
      expect(stopped / total).toBeGreaterThanOrEqual(0.8);
    }, 120_000);
  }

  it("json_object: any JSON object", async () => {
    for (const stream of [false, true]) {
      const r = await ask(
        { max_tokens: MAX_TOKENS, temperature: 0.9, seed: 5, response_format: { type: "json_object" } },
        stream,
      );
      if (r.finish === "stop") expect(typeof JSON.parse(r.text)).toBe("object");
      else expect(r.finish).toBe("length");
    }
  }, 60_000);

  const tools = [
    {
      type: "function" as const,
      function: {
        name: "count_tribes",
        parameters: {
          type: "object",
          properties: {
            people: { enum: ["Israel", "Judah", "Levi"] },
            count: { type: "integer", minimum: 1, maximum: 12 },
          },
          required: ["people", "count"],
          additionalProperties: false,
        },
      },
    },
    {
      type: "function" as const,
      function: {
        name: "find_verse",
        parameters: {
          type: "object",
          properties: {
            book: { type: "string", maxLength: 12 },
            chapter: { type: "integer", minimum: 1, maximum: 150 },
          },
          required: ["book", "chapter"],
          additionalProperties: false,
        },
      },
    },
  ];

  for (const choice of ["required", { type: "function", function: { name: "find_verse" } }] as const) {
    it(`forced tool calls (tool_choice ${JSON.stringify(choice)}) validate and end with "tool_calls"`, async () => {
      for (const stream of [false, true]) {
        for (const seed of SEEDS) {
          const r = await ask(
            { max_tokens: MAX_TOKENS, temperature: 0.9, seed, tools, tool_choice: choice },
            stream,
          );
          expect(r.finish).toBe("tool_calls");
          expect(r.calls).toHaveLength(1);
          const call = r.calls[0];
          expect(call.id).toMatch(/^call_/);
          const tool = tools.find((t) => t.function.name === call.function!.name)!;
          expect(tool, call.function!.name).toBeDefined();
          if (typeof choice === "object") expect(tool.function.name).toBe("find_verse");
          const validate = ajv.compile(tool.function.parameters);
          const args: unknown = JSON.parse(call.function!.arguments!);
          expect(validate(args), call.function!.arguments).toBe(true);
        }
      }
    }, 120_000);
  }

  it("takes a tool's result back into the conversation", async () => {
    const r = await client.chat.completions.create({
      model,
      max_tokens: 40,
      temperature: 0,
      tools,
      tool_choice: "none",
      messages: [
        ...messages,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "find_verse", arguments: '{"book":"Genesis","chapter":46}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "Jacob and all his seed" },
      ],
    });
    expect(["stop", "length"]).toContain(r.choices[0].finish_reason);
    expect(r.choices[0].message.tool_calls ?? []).toEqual([]);
  }, 60_000);

  it("refuses an unsupported schema keyword with a 400 that names it", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        {
          response_format: {
            type: "json_schema",
            json_schema: { name: "x", schema: { type: "string", format: "email" } },
          },
        },
        "format",
      ],
      [
        {
          response_format: {
            type: "json_schema",
            json_schema: { name: "x", schema: { type: "object", patternProperties: {} } },
          },
        },
        "patternProperties",
      ],
      [
        {
          tools: [{ type: "function", function: { name: "f", parameters: { allOf: [] } } }],
          tool_choice: "required",
        },
        "allOf",
      ],
    ];
    for (const [body, keyword] of cases) {
      const err = await client.chat.completions
        .create({ model, messages, max_tokens: 8, ...body } as never)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
      expect((err as Error).message).toContain(`"${keyword}"`);
    }
    // The text completions endpoint takes response_format too.
    const res = await fetch(`${status.url}/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${status.apiKey}` },
      body: JSON.stringify({
        model,
        prompt: "In the beginning",
        max_tokens: 8,
        response_format: { type: "json_schema", json_schema: { name: "x", schema: { not: {} } } },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('"not"');
  });

  it("/v1/completions honours response_format", async () => {
    const schema = SCHEMAS.enums;
    const r = await client.completions.create({
      model,
      prompt: "And the LORD said",
      max_tokens: MAX_TOKENS,
      temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "enums", schema } },
    } as never);
    const c = (r as OpenAI.Completion).choices[0];
    expect(c.finish_reason).toBe("stop");
    expect(ajv.compile(schema)(JSON.parse(c.text))).toBe(true);
  }, 60_000);
});
