// The local OpenAI-compatible HTTP server: loopback only (127.0.0.1), a bearer API key on every
// request, no foreign Origin (a web page the user visits must not reach it), a cap on body size.
// Routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions. Every error comes back
// in OpenAI's shape with its HTTP status.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { complete, type CompletionDeps, type Reply } from "./completions.js";
import { invalidRequest, OpenAiError, toOpenAiError } from "./errors.js";

export const LOOPBACK = "127.0.0.1";
/** Far above any prompt a local model's context holds, far below what would strain memory. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface OpenAiServerDeps extends CompletionDeps {
  /** The key clients must send; read on every request, so a new key takes effect at once. */
  apiKey(): string | null;
}

export interface OpenAiServer {
  /** Resolves with the bound port; rejects with the listen error (e.g. code EADDRINUSE). */
  listen(port: number): Promise<number>;
  /** Stops listening and drops open connections (their generations stop). */
  close(): Promise<void>;
}

const ROUTES: Record<string, string> = {
  "/v1/models": "GET",
  "/v1/chat/completions": "POST",
  "/v1/completions": "POST",
};

export function createOpenAiServer(deps: OpenAiServerDeps): OpenAiServer {
  let port = 0;
  const server = createServer((req, res) => {
    handle(req, res, deps, port).catch((error: unknown) => sendError(res, toOpenAiError(error)));
  });
  return {
    listen: (wanted) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(wanted, LOOPBACK, () => {
          server.off("error", reject);
          port = (server.address() as AddressInfo).port;
          resolve(port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: OpenAiServerDeps, port: number) {
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    origin !== `http://${LOOPBACK}:${port}` &&
    origin !== `http://localhost:${port}`
  )
    throw new OpenAiError(
      403,
      "permission_error",
      "forbidden_origin",
      `Requests from ${origin} are not allowed.`,
    );
  if (!authorized(req.headers.authorization, deps.apiKey()))
    throw new OpenAiError(
      401,
      "invalid_request_error",
      "invalid_api_key",
      "Incorrect or missing API key. Send the key shown in Exitlane's settings as a Bearer token.",
    );
  const url = new URL(req.url ?? "/", `http://${LOOPBACK}`);
  const modelPath = /^\/v1\/models\/(.+)$/.exec(url.pathname);
  const method = ROUTES[url.pathname] ?? (modelPath ? "GET" : undefined);
  if (!method)
    throw new OpenAiError(404, "invalid_request_error", "unknown_url", `Unknown route ${url.pathname}.`);
  if (req.method !== method) {
    res.setHeader("Allow", method);
    throw new OpenAiError(
      405,
      "invalid_request_error",
      "method_not_allowed",
      `Use ${method} for ${url.pathname}.`,
    );
  }
  if (method === "GET") {
    const models = (await deps.models.list()).map((m) => ({
      id: m.id,
      object: "model",
      created: Math.floor(Date.parse(m.createdAt) / 1000) || 0,
      owned_by: "exitlane",
    }));
    if (!modelPath) return sendJson(res, 200, { object: "list", data: models });
    const id = decodeURIComponent(modelPath[1]);
    const model = models.find((m) => m.id === id);
    if (!model)
      throw new OpenAiError(404, "invalid_request_error", "model_not_found", `No model "${id}".`, "model");
    return sendJson(res, 200, model);
  }
  const body = await readJson(req);
  const kind = url.pathname === "/v1/chat/completions" ? "chat" : "text";
  await complete(kind, body, deps, streamingReply(res, body));
}

function authorized(header: string | undefined, key: string | null): boolean {
  if (!key || !header) return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  // Equal-length digests, compared in constant time: the key leaks nothing through timing.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(key));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const tooLarge = () =>
    new OpenAiError(
      413,
      "invalid_request_error",
      "request_too_large",
      `The body exceeds ${MAX_BODY_BYTES} bytes.`,
    );
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw invalidRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Answers as JSON or, when the request asked for `stream`, as server-sent events. */
function streamingReply(res: ServerResponse, body: unknown): Reply {
  const controller = new AbortController();
  // The client hung up before the answer was complete: stop writing it.
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const streaming = !!(body && typeof body === "object" && (body as { stream?: unknown }).stream === true);
  const write = (line: string) => {
    if (!res.headersSent) {
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
      });
    }
    res.write(line);
  };
  return {
    streaming,
    signal: controller.signal,
    json: (status, value) => sendJson(res, status, value),
    event: (data) => write(`data: ${JSON.stringify(data)}\n\n`),
    done: () => {
      write("data: [DONE]\n\n");
      res.end();
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Before the first byte: a status and an error body. Mid-stream: an error event, then the end. */
function sendError(res: ServerResponse, error: OpenAiError): void {
  if (res.writableEnded || res.destroyed) return;
  if (!res.headersSent) {
    if (error.status === 413) res.setHeader("Connection", "close");
    return sendJson(res, error.status, error.toBody());
  }
  res.end(`data: ${JSON.stringify(error.toBody())}\n\n`);
}
