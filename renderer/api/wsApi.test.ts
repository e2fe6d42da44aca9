import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../wire/errors";
import { createWsApi, type SocketLike } from "./wsApi";
import { setRelativePath } from "./relativePaths";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: { id: number; channel: string; payload: unknown }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
  reply(id: number, result: unknown) {
    this.onmessage?.({ data: JSON.stringify({ type: "reply", id, ok: true, result }) });
  }
  fail(id: number, code: string, message: string, detail?: unknown) {
    this.onmessage?.({
      data: JSON.stringify({ type: "reply", id, ok: false, error: { code, message, detail } }),
    });
  }
  event(event: string, payload: unknown) {
    this.onmessage?.({ data: JSON.stringify({ type: "events", events: [{ event, payload }] }) });
  }
}

const status = { state: "ready", loadedModelId: null };

function setup(opts: { fetchImpl?: typeof fetch } = {}) {
  const sockets: FakeSocket[] = [];
  const api = createWsApi({
    url: "ws://127.0.0.1:1/ws?token=t",
    uploadUrl: "http://127.0.0.1:1/upload?token=t",
    socketFactory: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    random: () => 1,
    queueTimeoutMs: 1000,
    fetchImpl: opts.fetchImpl,
  });
  return { api, sockets, last: () => sockets[sockets.length - 1] };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("WebSocket API", () => {
  it("queues requests until the socket opens, then matches replies by id (validated)", async () => {
    const { api, last } = setup();
    expect(api.transport).toBe("websocket");
    expect(last().url).toBe("ws://127.0.0.1:1/ws?token=t");
    const p = api.request("engine.status", {});
    expect(last().sent).toHaveLength(0);
    last().open();
    expect(last().sent).toEqual([{ id: 1, channel: "engine.status", payload: {} }]);
    last().reply(1, status);
    await expect(p).resolves.toEqual(status);
  });

  it("rejects a request the contract refuses without sending it", async () => {
    const { api, last } = setup();
    last().open();
    // @ts-expect-error deliberately wrong payload
    await expect(api.request("chat.get", { id: 5 })).rejects.toMatchObject({ code: "bad_request" });
    // @ts-expect-error unknown channel
    await expect(api.request("nope", {})).rejects.toMatchObject({ code: "unknown_channel" });
    expect(last().sent).toHaveLength(0);
  });

  it("turns error replies and invalid replies into ApiErrors with the host's words", async () => {
    const { api, last } = setup();
    last().open();
    const a = api.request("chat.get", { id: "x" });
    last().fail(1, "not_found", "No conversation x");
    await expect(a).rejects.toEqual(new ApiError("not_found", "No conversation x", { channel: "chat.get" }));
    const b = api.request("engine.status", {});
    last().reply(2, { state: "weird" });
    await expect(b).rejects.toMatchObject({ code: "invalid_reply" });
    const c = api.request("models.list", {});
    last().fail(3, "model_format", "not a GGUF file", { formatCode: "bad_magic", file: "/m/x.gguf" });
    await expect(c).rejects.toEqual(
      new ApiError("model_format", "not a GGUF file", {
        channel: "models.list",
        detail: { formatCode: "bad_magic", file: "/m/x.gguf" },
      }),
    );
    await expect(c).rejects.toMatchObject({ detail: { formatCode: "bad_magic" } });
    const d = api.request("models.list", {});
    last().fail(4, "no_such_code", "?");
    await expect(d).rejects.toMatchObject({ code: "invalid_reply" });
  });

  it("rejects requests in flight with a clear error when the socket drops, and reconnects with backoff", async () => {
    const { api, sockets, last } = setup();
    const states: string[] = [];
    api.onConnectionChange((s) => states.push(s));
    last().open();
    const p = api.request("chat.list", {});
    last().drop();
    await expect(p).rejects.toMatchObject({
      code: "disconnected",
      message: expect.stringContaining("chat.list"),
    });
    expect(api.connectionState).toBe("reconnecting");
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sockets).toHaveLength(2);
    // a failed attempt waits longer next time
    last().drop();
    vi.advanceTimersByTime(250);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(250);
    expect(sockets).toHaveLength(3);
    last().open();
    expect(states).toEqual(["open", "reconnecting", "open"]);
  });

  it("keeps event listeners across reconnects and validates event payloads", () => {
    const { api, last } = setup();
    const seen: unknown[] = [];
    const off = api.on("engine.status", (s) => seen.push(s));
    last().open();
    last().event("engine.status", status);
    last().event("engine.status", { bogus: true });
    last().drop();
    vi.advanceTimersByTime(300);
    last().open();
    last().event("engine.status", { ...status, state: "restarting" });
    expect(seen).toEqual([status, { ...status, state: "restarting" }]);
    off();
    last().event("engine.status", status);
    expect(seen).toHaveLength(2);
  });

  it("fails a queued request when the host cannot be reached in time", async () => {
    const { api } = setup();
    const p = api.request("engine.info", {});
    vi.advanceTimersByTime(1001);
    await expect(p).rejects.toMatchObject({ code: "unreachable" });
  });

  it("uploads files as multipart with their relative paths and returns the job id", async () => {
    let seen: { url: string; body: FormData } | null = null;
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen = { url, body: init.body as FormData };
      return new Response(JSON.stringify({ jobId: "job-1" }), { status: 200 });
    }) as unknown as typeof fetch;
    const { api } = setup({ fetchImpl });
    const config = new File(["{}"], "config.json");
    setRelativePath(config, "/tiny-hf/config.json");
    const weights = new File(["w"], "model.safetensors");
    await expect(api.importFiles([config, weights])).resolves.toEqual({ jobId: "job-1" });
    expect(seen!.url).toBe("http://127.0.0.1:1/upload?token=t");
    const files = seen!.body.getAll("file") as File[];
    expect(files.map((f) => f.name)).toEqual(["tiny-hf/config.json", "model.safetensors"]);
  });

  it("sends the import options in the upload's query", async () => {
    const urls: string[] = [];
    const fetchImpl = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ jobId: "job-1" }), { status: 200 });
    }) as unknown as typeof fetch;
    const { api } = setup({ fetchImpl });
    await api.importFiles([new File(["x"], "a.gguf")], { quant: "f16", again: true });
    expect(urls).toEqual(["http://127.0.0.1:1/upload?token=t&quant=f16&again=1"]);
  });

  it("reports an upload the host refused in the host's words and with its code", async () => {
    const fetchImpl = (async () =>
      new Response(
        JSON.stringify({ error: { code: "bad_request", message: "bad.gguf is not a GGUF file." } }),
        { status: 400 },
      )) as unknown as typeof fetch;
    const { api } = setup({ fetchImpl });
    await expect(api.importFiles([new File(["x"], "bad.gguf")])).rejects.toMatchObject({
      code: "bad_request",
      message: "bad.gguf is not a GGUF file.",
    });
    const proxy = (async () => new Response("Bad Gateway", { status: 502 })) as unknown as typeof fetch;
    await expect(
      setup({ fetchImpl: proxy }).api.importFiles([new File(["x"], "a.gguf")]),
    ).rejects.toMatchObject({
      code: "upload_failed",
      message: "Bad Gateway",
    });
    await expect(api.importFiles([])).rejects.toMatchObject({ code: "bad_request" });
  });

  it("close() rejects everything and stops reconnecting", async () => {
    const { api, sockets, last } = setup();
    last().open();
    const p = api.request("chat.list", {});
    api.close();
    await expect(p).rejects.toMatchObject({ code: "disconnected" });
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(1);
    expect(api.connectionState).toBe("closed");
  });
});
