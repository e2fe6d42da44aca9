import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { contentSecurityPolicy } from "./csp.js";
import { createDispatcher, type Handlers } from "./dispatch.js";
import { ChannelError } from "./services/errors.js";
import { createEventBus } from "./services/event-bus.js";
import type { ImportRequest } from "./services/import-jobs.js";
import { resolveInside } from "./web-static.js";
import { importSource, safeRelativePath } from "./web-upload.js";
import { startWebHost, type WebHost } from "./web-host.js";

let dir: string;
let host: WebHost;
let imports: Array<ImportRequest & { content: string[] }>;
let importResult: () => Promise<{ jobId: string }>;
const events = createEventBus();
let renamed: string[];

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-web-"));
  mkdirSync(path.join(dir, "renderer/assets"), { recursive: true });
  writeFileSync(path.join(dir, "renderer/index.html"), "<!doctype html><title>Exitlane</title>");
  writeFileSync(path.join(dir, "renderer/assets/app.js"), "console.log(1)");
  writeFileSync(path.join(dir, "secret.txt"), "outside");
  imports = [];
  renamed = [];
  importResult = async () => ({ jobId: "job-1" });
  const handlers = new Proxy({} as Handlers, {
    get: (_t, name) =>
      name === "chat.rename"
        ? async ({ title }: { title: string }) => {
            renamed.push(title);
            throw new ChannelError("not_found", 'No conversation with id "c".');
          }
        : async () => ({ deleted: true }),
  });
  host = await startWebHost({
    dispatch: createDispatcher(handlers, { validateReplies: false }),
    events,
    rendererDir: path.join(dir, "renderer"),
    uploadRoot: path.join(dir, "uploads"),
    uploadLimits: { maxBytes: 1024, maxFiles: 3 },
    startImport: async (request) => {
      const files =
        existsSync(request.source) && !request.source.endsWith(".gguf")
          ? readdirSync(request.source, { recursive: true })
          : [];
      imports.push({
        ...request,
        content: files.length ? files.map(String).sort() : [readFileSync(request.source, "utf8")],
      });
      return importResult();
    },
  });
});
afterEach(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request, so tests can set any Host, Origin and Cookie header. */
function get(
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: host.port, path: pathname, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function connect(query: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws${query}`, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

function ask(ws: WebSocket, frame: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data));
      if (message.type !== "reply") return;
      ws.off("message", onMessage);
      resolve(message);
    };
    ws.on("message", onMessage);
    ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  });
}

describe("web host HTTP", () => {
  it("listens on loopback only and prints a URL with its token", () => {
    expect(host.origin).toBe(`http://127.0.0.1:${host.port}`);
    expect(host.url).toBe(`${host.origin}/?token=${host.token}`);
    expect(host.token.length).toBeGreaterThanOrEqual(40);
  });

  it("refuses connections on the machine's other addresses", async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (!external) return console.warn("[skip] no non-loopback IPv4 address on this machine");
    const attempt = await new Promise<string>((resolve) => {
      const req = http.get(
        { host: external.address, port: host.port, path: `/?token=${host.token}`, timeout: 2000 },
        () => resolve("connected"),
      );
      req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    });
    expect(attempt).toMatch(/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH/);
  });

  it("answers 403 without the token and with a wrong one", async () => {
    expect((await get("/")).status).toBe(403);
    expect((await get("/assets/app.js")).status).toBe(403);
    expect((await get(`/?token=${"x".repeat(host.token.length)}`)).status).toBe(403);
  });

  it("sets an HttpOnly SameSite=Strict cookie on the first load, then accepts the cookie", async () => {
    const first = await get(`/?token=${host.token}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain("<title>Exitlane</title>");
    const cookie = first.headers["set-cookie"]![0];
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await get("/assets/app.js", { Cookie: cookie.split(";")[0] });
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/text\/javascript/);
    expect(asset.headers["content-security-policy"]).toBe(contentSecurityPolicy());
    expect(first.headers["x-frame-options"]).toBe("DENY");
  });

  it("refuses a foreign Host header even with the token (DNS rebinding)", async () => {
    expect((await get(`/?token=${host.token}`, { Host: `evil.example:${host.port}` })).status).toBe(403);
  });

  it("serves only files inside the renderer folder, falling back to the page for app routes", async () => {
    const auth = { "X-Exitlane-Token": host.token };
    expect((await get("/../secret.txt", auth)).body).not.toContain("outside");
    expect((await get("/%2e%2e/secret.txt", auth)).body).not.toContain("outside");
    expect((await get("/settings/about", auth)).body).toContain("<title>Exitlane</title>");
    expect((await get("/missing.js", auth)).status).toBe(404);
    expect(resolveInside("/srv/app", "/../etc/passwd")).toBe("/srv/app/etc/passwd");
    expect(resolveInside("/srv/app", "/a%00b")).toBeNull();
    expect(resolveInside("/srv/app", "/..%5c..%5cwin.ini")).toBeNull();
  });
});

describe("web host WebSocket", () => {
  const origin = () => ({ Origin: `http://127.0.0.1:${host.port}` });

  it("refuses a socket without the token, with a foreign Origin, or without an Origin", async () => {
    await expect(connect("", origin())).rejects.toThrow(/refused 403/);
    await expect(connect(`?token=${host.token}`, { Origin: "http://evil.example" })).rejects.toThrow(
      /refused 403/,
    );
    await expect(connect(`?token=${host.token}`, { Origin: "http://localhost:1" })).rejects.toThrow(
      /refused 403/,
    );
    await expect(connect(`?token=${host.token}`, {})).rejects.toThrow(/refused 403/);
  });

  it("accepts the token by query or cookie, with its own origin", async () => {
    (await connect(`?token=${host.token}`, origin())).close();
    (await connect("", { ...origin(), Cookie: `exitlane_token_${host.port}=${host.token}` })).close();
  });

  it("answers malformed messages with clear errors and changes nothing", async () => {
    const ws = await connect(`?token=${host.token}`, origin());
    expect(await ask(ws, "{nope")).toMatchObject({
      type: "reply",
      id: -1,
      ok: false,
      error: { code: "bad_request", message: "The message is not valid JSON." },
    });
    expect(await ask(ws, { id: 1, channel: "chat.rename" })).toMatchObject({
      id: 1,
      ok: false,
      error: { code: "bad_request" },
    });
    expect(await ask(ws, { id: 2, channel: "fs.unlink", payload: { path: "/" } })).toMatchObject({
      id: 2,
      ok: false,
      error: { code: "unknown_channel" },
    });
    expect(await ask(ws, { id: 3, channel: "chat.rename", payload: { id: "c", title: 5 } })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: "bad_request", message: expect.stringContaining("chat.rename") },
    });
    expect(await ask(ws, { id: 4, channel: "chat.rename", payload: { id: "c" } })).toMatchObject({
      id: 4,
      ok: false,
      error: { code: "bad_request" },
    });
    expect(renamed).toEqual([]);
    expect(await ask(ws, { id: 5, channel: "chat.rename", payload: { id: "c", title: "t" } })).toMatchObject({
      id: 5,
      ok: false,
      error: { code: "not_found" },
    });
    expect(renamed).toEqual(["t"]);
    ws.close();
  });

  it("delivers contract events to every socket", async () => {
    const job = { jobId: "j1", source: "a.gguf", stage: "read", progress: 0.5, state: "running" } as const;
    const ws = await connect(`?token=${host.token}`, origin());
    const received = new Promise((resolve) =>
      ws.once("message", (data) => resolve(JSON.parse(String(data)))),
    );
    events.emit("models.changed", {});
    events.emit("import.progress", job);
    // The events of one tick arrive as one message, in order.
    expect(await received).toEqual({
      type: "events",
      events: [
        { event: "models.changed", payload: {} },
        { event: "import.progress", payload: job },
      ],
    });
    ws.close();
  });
});

describe("web host upload", () => {
  const upload = (form: FormData, headers: Record<string, string> = {}) =>
    fetch(`${host.origin}/upload?token=${host.token}`, { method: "POST", body: form, headers });
  const file = (text: string, name: string) => [new Blob([text]), name] as const;

  it("streams one file to a temp folder and starts its import", async () => {
    const form = new FormData();
    form.append("file", ...file("GGUF-bytes", "tiny.gguf"));
    const res = await upload(form);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jobId: "job-1" });
    expect(imports).toHaveLength(1);
    expect(imports[0]).toMatchObject({ displayName: "tiny.gguf", content: ["GGUF-bytes"] });
    expect(imports[0].source.startsWith(path.join(dir, "uploads"))).toBe(true);
    await imports[0].cleanup!();
    expect(existsSync(imports[0].source)).toBe(false);
  });

  it("imports a dropped folder as the folder", async () => {
    const form = new FormData();
    form.append("file", ...file("{}", "my-model/config.json"));
    form.append("file", ...file("weights", "my-model/model.safetensors"));
    expect((await upload(form)).status).toBe(200);
    expect(imports[0]).toMatchObject({
      displayName: "my-model",
      content: ["config.json", "model.safetensors"],
    });
  });

  it("refuses uploads over the size or file limits, leaving nothing behind", async () => {
    const big = new FormData();
    big.append("file", ...file("x".repeat(2000), "big.gguf"));
    const res = await upload(big);
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toMatch(/too large \(limit 1 KiB\)/);
    const many = new FormData();
    for (let i = 0; i < 4; i++) many.append("file", ...file("x", `f${i}.bin`));
    expect((await upload(many)).status).toBe(413);
    expect(imports).toEqual([]);
    expect(readdirSync(path.join(dir, "uploads"))).toEqual([]);
  });

  it("refuses unsafe names, missing tokens, foreign origins and GET", async () => {
    const evil = new FormData();
    evil.append("file", ...file("x", "../../escape.gguf"));
    expect((await upload(evil)).status).toBe(400);
    const form = new FormData();
    form.append("file", ...file("x", "a.gguf"));
    expect((await fetch(`${host.origin}/upload`, { method: "POST", body: form })).status).toBe(403);
    expect((await upload(form, { Origin: "http://evil.example" })).status).toBe(403);
    expect((await fetch(`${host.origin}/upload?token=${host.token}`)).status).toBe(405);
    expect(imports).toEqual([]);
    expect(existsSync(path.join(dir, "escape.gguf"))).toBe(false);
  });

  it("passes a refused import on in plain words and removes the upload", async () => {
    importResult = () =>
      Promise.reject(
        new ChannelError(
          "engine_error",
          "Model import is not available yet: this engine version does not support it.",
        ),
      );
    const form = new FormData();
    form.append("file", ...file("x", "a.gguf"));
    const res = await upload(form);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: "engine_error", message: expect.stringMatching(/not available yet/) },
    });
    expect(readdirSync(path.join(dir, "uploads"))).toEqual([]);
  });
});

describe("upload names", () => {
  it("keeps plain relative paths and refuses escapes", () => {
    expect(safeRelativePath("model/config.json")).toBe("model/config.json");
    expect(safeRelativePath("a\\b.gguf")).toBe("a/b.gguf");
    expect(safeRelativePath("/abs/x.gguf")).toBe("abs/x.gguf");
    for (const bad of ["../x", "a/../../x", "", "..", "a/...", "con:x", "a\u0000b"])
      expect(safeRelativePath(bad)).toBeNull();
  });

  it("chooses the file, the shared folder or the upload folder", () => {
    expect(importSource("/u", ["a.gguf"])).toEqual({
      source: path.join("/u", "a.gguf"),
      displayName: "a.gguf",
    });
    expect(importSource("/u", ["m/a", "m/b"])).toEqual({ source: path.join("/u", "m"), displayName: "m" });
    expect(importSource("/u", ["a", "b"])).toEqual({ source: "/u", displayName: "2 files" });
  });
});

vi.setConfig({ testTimeout: 20_000 });
