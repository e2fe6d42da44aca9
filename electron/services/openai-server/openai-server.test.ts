// The local server end to end: the official `openai` client over real HTTP against the whole
// back end and the real engine host with stories260K (a base model: chat requests go through the
// engine's plain fallback template).
import { request } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { EngineStatus, EventOf, ServerStatus } from "../../contract.js";
import {
  startRealBackend,
  until,
  type RealBackend,
  type RealBackendOptions,
} from "../../test-support/real-backend.js";
import { DEFAULT_SAMPLING } from "../settings.js";
import { freePort } from "../../test-support/free-port.js";

let b: RealBackend;
let modelId: string;
let status: ServerStatus;
let client: OpenAI;

/** A real back end with the server switched on, and a client for it. */
async function serving(options: RealBackendOptions = {}) {
  const backend = await startRealBackend(options);
  await backend.call("settings.set", { server: { enabled: true, port: await freePort() } });
  const serverStatus = await backend.call<ServerStatus>("server.status", {});
  const openai = new OpenAI({ baseURL: serverStatus.url!, apiKey: serverStatus.apiKey!, maxRetries: 0 });
  return { backend, serverStatus, openai };
}

beforeAll(async () => {
  ({ backend: b, serverStatus: status, openai: client } = await serving());
  modelId = b.modelId!;
});
afterAll(() => b?.close());

const raw = (route: string, init: RequestInit & { key?: string | null } = {}) => {
  const { key = status.apiKey, ...rest } = init;
  return fetch(`${status.url}${route}`, {
    ...rest,
    headers: {
      "Content-Type": "application/json",
      ...(key ? { Authorization: `Bearer ${key}` } : {}),
      ...(rest.headers as Record<string, string>),
    },
  });
};

/** Greedy text straight from the engine host, as the app's engine writes it for a raw prompt. */
async function engineContinuation(prompt: string, maxTokens: number, knob: number) {
  const { engine } = b.backend.services;
  const genId = `direct-${Math.random().toString(36).slice(2)}`;
  const texts: string[] = [];
  const stop = engine.onEvent(
    (e) => e.event === "tokens" && e.genId === genId && texts.push(...e.tokens.map((t) => t.text)),
  );
  const sampling = { ...DEFAULT_SAMPLING, temperature: 0, minP: 0, repetitionPenalty: 1, maxTokens };
  const stats = await engine.request("generate", { genId, modelId, prompt, sampling, knob });
  stop();
  return { text: texts.join(""), tokens: texts.length, stats };
}

describe("local OpenAI-compatible server", () => {
  it("runs on loopback with a generated key", () => {
    expect(status).toMatchObject({ running: true });
    expect(status.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(status.apiKey).toMatch(/^sk-exitlane-[\w-]{20,}$/);
  });

  it("lists the library's models", async () => {
    const page = await client.models.list();
    expect(page.data).toEqual([
      expect.objectContaining({ id: modelId, object: "model", owned_by: "exitlane" }),
    ]);
  });

  it("answers a chat completion whole, with real usage and the exit-layer extension", async () => {
    const r = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: "user", content: [{ type: "text", text: "Tell me a story." }] }],
      max_tokens: 16,
      temperature: 0,
    });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0].message.content!.length).toBeGreaterThan(0);
    expect(["stop", "length"]).toContain(r.choices[0].finish_reason);
    expect(r.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(16);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    const ext = (r as unknown as { exitlane: { exit_layer: number; layers: number } }).exitlane;
    expect(ext.layers).toBe(5);
    expect(ext.exit_layer).toBeGreaterThanOrEqual(1);
    expect(ext.exit_layer).toBeLessThanOrEqual(5);
  });

  it("streams a chat completion: role first, one chunk per token, finish, usage, [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [
        { role: "system", content: "You tell stories." },
        { role: "user", content: "Once upon a time" },
      ],
      max_tokens: 24,
      temperature: 0.8,
      seed: 3,
      stream: true,
      stream_options: { include_usage: true },
      exitlane: { knob: 1 },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const tokens = chunks.filter((c) => c.choices[0]?.delta.content !== undefined);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(tokens.map((c) => c.choices[0].delta.content).join("").length).toBeGreaterThan(0);
    const finish = chunks.at(-2)!;
    expect(["stop", "length"]).toContain(finish.choices[0].finish_reason);
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.completion_tokens).toBe(tokens.length);
    expect(usage.usage!.prompt_tokens).toBeGreaterThan(0);
    for (const c of chunks) {
      expect(c.object).toBe("chat.completion.chunk");
      expect((c as unknown as { exitlane: { layers: number } }).exitlane.layers).toBe(5);
    }
    for (const c of tokens) {
      const { exit_layer } = (c as unknown as { exitlane: { exit_layer: number } }).exitlane;
      expect(Number.isInteger(exit_layer) && exit_layer >= 1 && exit_layer <= 5).toBe(true);
    }
  });

  it("continues a raw prompt exactly as the engine does (greedy), and stops before a stop string", async () => {
    const prompt = "Once upon a time, there was a little";
    const direct = await engineContinuation(prompt, 24, 0);
    const r = await client.completions.create({
      model: modelId,
      prompt,
      max_tokens: 24,
      temperature: 0,
      exitlane: { knob: 0 },
    } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(r.object).toBe("text_completion");
    expect(r.choices[0].text).toBe(direct.text);
    expect(r.usage!.completion_tokens).toBe(direct.tokens);
    expect(r.usage!.prompt_tokens).toBe(direct.stats.promptTokens);
    expect(direct.text.length).toBeGreaterThan(10);

    // A word from the middle of that text as the stop string: the answer ends right before it.
    const words = direct.text.trim().split(/\s+/);
    const stopWord = words[Math.floor(words.length / 2)];
    const cut = direct.text.slice(0, direct.text.indexOf(stopWord));
    const stopped = await client.completions.create({
      model: modelId,
      prompt,
      max_tokens: 24,
      temperature: 0,
      stop: [stopWord],
      exitlane: { knob: 0 },
    } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(stopped.choices[0].text).toBe(cut);
    expect(stopped.choices[0].finish_reason).toBe("stop");

    // A stop string that starts with the text's last character: the engine holds that character
    // back until it knows, and when the answer ends at max_tokens instead, it is still the answer's.
    const heldBack = {
      stop: [`${direct.text.at(-1)}\u00a7\u00a7`],
      max_tokens: 24,
      temperature: 0,
      exitlane: { knob: 0 },
    };
    const whole = await client.completions.create({
      model: modelId,
      prompt,
      ...heldBack,
    } as OpenAI.CompletionCreateParamsNonStreaming);
    expect(whole.choices[0].text).toBe(direct.text);
    expect(whole.choices[0].finish_reason).toBe("length");
    const stream = await client.completions.create({
      model: modelId,
      prompt,
      ...heldBack,
      stream: true,
    } as OpenAI.CompletionCreateParamsStreaming);
    let streamed = "";
    for await (const c of stream) streamed += c.choices[0]?.text ?? "";
    expect(streamed).toBe(direct.text);
  });

  it("refuses a prompt longer than the model's context with 400 context_length_exceeded", async () => {
    const tooLong = client.completions.create({
      model: modelId,
      prompt: "Once upon a time, there was a little girl. ".repeat(200),
      max_tokens: 4,
    });
    await expect(tooLong).rejects.toMatchObject({ status: 400, code: "context_length_exceeded" });
    const next = await client.completions.create({ model: modelId, prompt: "The cat", max_tokens: 4 });
    expect(next.choices[0].text.length).toBeGreaterThan(0);
  });

  it("streams a completion as text_completion chunks", async () => {
    const stream = await client.completions.create({
      model: modelId,
      prompt: "The cat",
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    const chunks: OpenAI.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.at(-1)!.choices[0].finish_reason).toMatch(/^(stop|length)$/);
    expect(chunks.map((c) => c.choices[0].text).join("").length).toBeGreaterThan(0);
  });

  it("answers 10 concurrent requests, in order of arrival", async () => {
    const { server } = b.backend.services;
    const finished: number[] = [];
    const requests: Promise<unknown>[] = [];
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      requests.push(
        client.completions
          .create({
            model: modelId,
            prompt: `Tom had ${i} apples`,
            // The first answer is long, so the others arrive while it is being written.
            max_tokens: i === 0 ? 480 : 12,
            temperature: 0.5,
            seed: i,
          })
          .then((r) => {
            finished.push(i);
            expect(r.usage!.completion_tokens).toBeGreaterThan(0);
          }),
      );
      // Arrival order is the order the server queued them in: each is fired once the one before
      // is in line (waiting, running, or already answered).
      await until(() => server.answersInLine + finished.length >= i + 1, 5000, `request ${i} queued`);
      peak = Math.max(peak, server.answersInLine);
    }
    await Promise.all(requests);
    expect(finished).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    console.log(`[openai-server] most answers in line at once: ${peak}`);
    expect(peak).toBeGreaterThan(5); // They really were in line together.
  });

  it("lets an app chat finish while a server request streams", async () => {
    const stream = await client.chat.completions.create({
      model: modelId,
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 200,
      temperature: 1,
      seed: 5,
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next(); // The server's answer is being written now.
    const chat = await b.call<{ id: string }>("chat.create", {});
    const done = b.next("generation.done", (d) => d.conversationId === chat.id, 30_000);
    await b.call("chat.send", { conversationId: chat.id, text: "Hi" });
    let serverTokens = 1;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) serverTokens++;
    const appDone: EventOf<"generation.done"> = await done;
    expect(appDone.error).toBeUndefined();
    expect(appDone.stats.tokens).toBeGreaterThan(0);
    expect(serverTokens).toBeGreaterThan(2);
  });

  it("a model switch in the app waits for the server's answer to end, then happens", async () => {
    const stream = await client.completions.create({
      model: modelId,
      prompt: "Once upon a time",
      max_tokens: 400,
      temperature: 0,
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next(); // The server's answer is being written now.
    const switched = b.call<EngineStatus>("models.select", { id: null });
    let finish: string | null = null;
    let chunks = 1;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      chunks++;
      finish = r.value.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toMatch(/^(stop|length)$/);
    expect(chunks).toBeGreaterThan(100);
    expect((await switched).loadedModelId).toBeNull();
    expect((await b.call<EngineStatus>("models.select", { id: modelId })).loadedModelId).toBe(modelId);
  });

  it("refuses a missing or wrong key with 401", async () => {
    const none = await raw("/models", { key: null });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_api_key" },
    });
    const wrong = new OpenAI({ baseURL: status.url!, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it("refuses a foreign Origin with 403, even with the key", async () => {
    const r = await raw("/models", { headers: { Origin: "https://evil.example" } });
    expect(r.status).toBe(403);
    expect((await r.json()).error.code).toBe("forbidden_origin");
    const own = await raw("/models", { headers: { Origin: new URL(status.url!).origin } });
    expect(own.status).toBe(200);
  });

  it("answers a malformed or invalid body with 400 saying what is wrong", async () => {
    const bad = await raw("/chat/completions", { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/not valid JSON/);
    const wrongType = await raw("/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: modelId, messages: "hello" }),
    });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({
      error: { type: "invalid_request_error", param: "messages", message: expect.stringMatching(/messages/) },
    });
    await expect(
      client.chat.completions.create({
        model: modelId,
        messages: [{ role: "user", content: "x" }],
        exitlane: { knob: 2 },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toMatchObject({ status: 400, param: "exitlane.knob" });
  });

  it("answers an unknown model with 404 model_not_found, unknown routes 404, wrong methods 405, huge bodies 413", async () => {
    await expect(
      client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    expect((await raw("/embeddings", { method: "POST", body: "{}" })).status).toBe(404);
    const wrongMethod = await raw("/chat/completions");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    // A body announced as too large is refused before any of it is read.
    const huge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${status.url}/completions`);
      const req = request(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${status.apiKey}`, "Content-Length": String(5 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).error.code).toBe("request_too_large");
  });

  it("answers 503 while the engine restarts after a crash, then works again", async () => {
    const { engine } = b.backend.services;
    process.kill(engine.pid!, "SIGKILL");
    await until(() => engine.status().state === "restarting", 5000, "restarting");
    const r = await raw("/completions", {
      method: "POST",
      body: JSON.stringify({ model: modelId, prompt: "Hi" }),
    });
    expect(r.status).toBe(503);
    expect((await r.json()).error.type).toBe("server_error");
    await until(() => engine.status().state === "ready", 20_000, "ready again");
    const again = await client.completions.create({ model: modelId, prompt: "Hi", max_tokens: 4 });
    expect(again.usage!.completion_tokens).toBeGreaterThan(0);
  });
});

describe("local OpenAI-compatible server, client gone", () => {
  // The native kernels write stories260K's whole 480-token answer in about 50 ms, before an abort
  // could arrive; onnxruntime's layers take about ten times longer, so the answer is still running.
  // The package too: a one-copy import holds only the native form, which this host cannot run.
  const slowHost = { hostEnv: { EXITLANE_NATIVE: "off" }, storiesForm: "onnx" as const };

  it("stops the generation within 200 ms when the client aborts mid-stream, and serves the next one", async () => {
    const { backend, openai } = await serving(slowHost);
    onTestFinished(() => backend.close());
    const { engine } = backend.backend.services;
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      {
        model: backend.modelId!,
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 480,
        temperature: 1,
        seed: 11,
        stream: true,
      },
      { signal: controller.signal },
    );
    let engineTokens = 0;
    const off = engine.onEvent(
      (e) => e.event === "tokens" && e.genId.startsWith("server-") && (engineTokens += e.tokens.length),
    );
    let seen = 0;
    let abortedAt = 0;
    let pendingAtAbort = -1;
    // The client's stream ends quietly once aborted.
    for await (const _chunk of stream) {
      if (++seen === 3) {
        pendingAtAbort = engine.pendingCount; // 1: the generate request is still running.
        abortedAt = performance.now();
        controller.abort();
      }
    }
    expect(pendingAtAbort).toBe(1);
    expect(seen).toBeLessThan(50);
    await until(() => engine.pendingCount === 0, 5000, "the generate reply");
    const stopMs = performance.now() - abortedAt;
    off();
    expect(engineTokens).toBeLessThan(480); // Stopped, not run to its end.
    console.log(
      `[openai-server] abort -> engine generate reply: ${stopMs.toFixed(1)} ms; ${engineTokens} tokens`,
    );
    expect(stopMs).toBeLessThan(200);
    expect(backend.backend.services.server.answersInLine).toBe(0);

    const next = await openai.chat.completions.create({
      model: backend.modelId!,
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 4,
    });
    expect(next.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("drops a queued request whose client went away; it never reaches the engine", async () => {
    const { backend, openai } = await serving(slowHost);
    onTestFinished(() => backend.close());
    const { server, engine } = backend.backend.services;
    const model = backend.modelId!;
    const genIds = new Set<string>();
    engine.onEvent((e) => void (e.event === "tokens" && genIds.add(e.genId)));
    const first = openai.completions.create({ model, prompt: "Once", max_tokens: 120, temperature: 0 });
    await until(() => server.answersInLine === 1, 5000, "first queued");
    const controller = new AbortController();
    const second = openai.completions
      .create({ model, prompt: "Twice", max_tokens: 120 }, { signal: controller.signal })
      .catch((error: Error) => error);
    await until(() => server.answersInLine === 2, 5000, "second queued");
    controller.abort();
    await until(() => server.answersInLine === 1, 1000, "second dropped");
    expect(await second).toBeInstanceOf(Error);
    expect((await first).choices[0].text.length).toBeGreaterThan(0);
    expect(genIds.size).toBe(1);
  });

  it("stops an app chat that is waiting behind a server answer, without it reaching the engine", async () => {
    const { backend, openai } = await serving(slowHost);
    onTestFinished(() => backend.close());
    const model = backend.modelId!;
    const answer = openai.completions.create({ model, prompt: "Once", max_tokens: 200, temperature: 0 });
    await until(() => backend.backend.services.server.answersInLine === 1, 5000, "server answer queued");
    const chat = await backend.call<{ id: string }>("chat.create", {});
    const done = backend.next("generation.done", (d) => d.conversationId === chat.id);
    await backend.call("chat.send", { conversationId: chat.id, text: "Hi" });
    expect(backend.backend.services.server.answersInLine).toBe(2);
    expect(await backend.call("chat.stop", { conversationId: chat.id })).toEqual({ stopped: true });
    const { stats, error } = await done;
    expect(error).toBeUndefined();
    expect(stats).toMatchObject({ stopReason: "stopped", tokens: 0 });
    expect((await answer).usage!.completion_tokens).toBeGreaterThan(0);
  });
});
