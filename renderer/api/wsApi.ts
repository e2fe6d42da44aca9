// ExitlaneApi over the loopback web host's WebSocket (the browser build and e2e). Same behaviour as
// the Electron preload's API: typed requests with replies, events, file imports. On top of that it
// reconnects with backoff, fails every request in flight with a clear error when the socket drops
// (nothing waits forever), and keeps event listeners across reconnects. Every failure is an
// ApiError (wire/errors.ts) with the back end's code and detail, or a connection code of its own.
import {
  events as eventSchemas,
  requests as requestSchemas,
  isChannel,
  type Channel,
  type EventName,
  type EventOf,
  type ExitlaneApi,
  type ImportOptions,
  type ReplyOf,
  type RequestOf,
  type WireEvent,
  type WsMessage,
  uploadQuery,
} from "../../electron/contract";
import { ApiError, WireError } from "../../wire/errors";
import { backoffDelay } from "./backoff";
import { relativePathOf } from "./relativePaths";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface ConnectionAware {
  readonly connectionState: ConnectionState;
  /** Called on every change; "open" after a reconnect means state should be refetched. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
}

/** The subset of the WebSocket class this client uses (tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface WsApiOptions {
  url: string;
  uploadUrl: string;
  socketFactory?: SocketFactory;
  fetchImpl?: typeof fetch;
  random?: () => number;
  /** How long a request waits for a connection before it fails (default 15 s). */
  queueTimeoutMs?: number;
  /** Validate replies and events against the contract (default true). */
  validate?: boolean;
}

interface Pending {
  channel: Channel;
  resolve(value: unknown): void;
  reject(err: Error): void;
  sent: boolean;
  timer?: ReturnType<typeof setTimeout>;
  frame?: string;
}

const OPEN = 1;

export type WsApi = ExitlaneApi & ConnectionAware & { close(): void };

export function createWsApi(options: WsApiOptions): WsApi {
  const factory: SocketFactory =
    options.socketFactory ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  const doFetch = options.fetchImpl ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const random = options.random ?? Math.random;
  const queueTimeoutMs = options.queueTimeoutMs ?? 15_000;
  const validate = options.validate ?? true;

  let socket: SocketLike | null = null;
  let state: ConnectionState = "connecting";
  let attempt = 0;
  let closedByUser = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const outbox: number[] = [];
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();

  function setState(next: ConnectionState) {
    if (state === next) return;
    state = next;
    for (const l of [...connectionListeners]) {
      try {
        l(next);
      } catch (err) {
        console.error("connection listener failed", err);
      }
    }
  }

  function connect() {
    if (closedByUser) return;
    let ws: SocketLike;
    try {
      ws = factory(options.url);
    } catch (err) {
      console.error("WebSocket could not be created", err);
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      attempt = 0;
      setState("open");
      flushOutbox();
    };
    ws.onmessage = (ev) => {
      if (socket === ws) handleMessage(ev.data);
    };
    ws.onerror = () => {
      // onclose follows and does the work
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      failInFlight();
      if (closedByUser) {
        setState("closed");
        return;
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    setState("reconnecting");
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, backoffDelay(attempt++, random));
  }

  function failInFlight() {
    for (const [id, p] of pending) {
      if (!p.sent) continue;
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(
        new ApiError(
          "disconnected",
          `The connection to Exitlane closed before “${p.channel}” was answered. It is reconnecting; try again in a moment.`,
          { channel: p.channel },
        ),
      );
    }
  }

  function flushOutbox() {
    while (outbox.length && socket && socket.readyState === OPEN) {
      const id = outbox.shift()!;
      const p = pending.get(id);
      if (!p || !p.frame) continue;
      clearTimeout(p.timer);
      p.timer = undefined;
      p.sent = true;
      socket.send(p.frame);
      p.frame = undefined;
    }
  }

  function handleMessage(data: unknown) {
    let msg: WsMessage;
    try {
      msg = JSON.parse(typeof data === "string" ? data : String(data)) as WsMessage;
    } catch {
      console.warn("Ignoring a WebSocket message that is not JSON");
      return;
    }
    if (msg && msg.type === "reply") {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) {
        if (!validate) return p.resolve(msg.result);
        const parsed = requestSchemas[p.channel].reply.safeParse(msg.result);
        if (parsed.success) p.resolve(parsed.data);
        else
          p.reject(
            new ApiError(
              "invalid_reply",
              `Exitlane sent a reply to “${p.channel}” that does not match the contract: ${parsed.error.message}`,
              { channel: p.channel },
            ),
          );
      } else {
        const error = WireError.safeParse(msg.error);
        p.reject(
          error.success
            ? ApiError.fromWire(error.data, p.channel)
            : new ApiError("invalid_reply", `Exitlane sent an unreadable error for “${p.channel}”.`, {
                channel: p.channel,
              }),
        );
      }
      return;
    }
    if (msg && msg.type === "events" && Array.isArray(msg.events))
      for (const event of msg.events) deliverEvent(event);
  }

  function deliverEvent(msg: WireEvent) {
    const set = listeners.get(msg.event);
    if (!set || set.size === 0) return;
    let payload: unknown = msg.payload;
    if (validate) {
      const schema = eventSchemas[msg.event];
      if (!schema) return;
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        console.warn(`Ignoring an invalid “${msg.event}” event`, parsed.error.message);
        return;
      }
      payload = parsed.data;
    }
    for (const l of [...set]) {
      try {
        (l as (p: unknown) => void)(payload);
      } catch (err) {
        console.error(`listener for ${msg.event} failed`, err);
      }
    }
  }

  function request<C extends Channel>(channel: C, payload: RequestOf<C>): Promise<ReplyOf<C>> {
    if (!isChannel(channel))
      return Promise.reject(
        new ApiError("unknown_channel", `Unknown channel “${String(channel)}”.`, {
          channel: String(channel),
        }),
      );
    if (closedByUser)
      return Promise.reject(
        new ApiError("disconnected", "The connection to Exitlane is closed.", { channel }),
      );
    const checked = requestSchemas[channel].request.safeParse(payload);
    if (!checked.success)
      return Promise.reject(
        new ApiError("bad_request", `Invalid request for “${channel}”: ${checked.error.message}`, {
          channel,
        }),
      );
    const id = nextId++;
    return new Promise<ReplyOf<C>>((resolve, reject) => {
      const frame = JSON.stringify({ id, channel, payload: checked.data });
      const p: Pending = { channel, resolve: resolve as (v: unknown) => void, reject, sent: false };
      pending.set(id, p);
      if (socket && socket.readyState === OPEN) {
        p.sent = true;
        socket.send(frame);
        return;
      }
      p.frame = frame;
      outbox.push(id);
      p.timer = setTimeout(() => {
        if (!pending.has(id) || p.sent) return;
        pending.delete(id);
        const i = outbox.indexOf(id);
        if (i !== -1) outbox.splice(i, 1);
        reject(
          new ApiError(
            "unreachable",
            `Exitlane's back end is not reachable, so “${channel}” could not be sent. Is the app still running?`,
            { channel },
          ),
        );
      }, queueTimeoutMs);
    });
  }

  function on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => {
      set!.delete(listener as (payload: never) => void);
    };
  }

  async function importFiles(files: File[], importOptions: ImportOptions = {}): Promise<{ jobId: string }> {
    if (files.length === 0) throw new ApiError("bad_request", "No files to import.");
    const form = new FormData();
    for (const f of files) form.append("file", f, relativePathOf(f));
    let res: Response;
    try {
      const query = uploadQuery(importOptions);
      const url = query
        ? `${options.uploadUrl}${options.uploadUrl.includes("?") ? "&" : "?"}${query}`
        : options.uploadUrl;
      res = await doFetch(url, { method: "POST", body: form, credentials: "same-origin" });
    } catch (err) {
      throw new ApiError(
        "upload_failed",
        `The files could not be sent to Exitlane (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
    let body: unknown = null;
    const text = await res.text().catch(() => "");
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!res.ok) {
      const refusal = WireError.safeParse((body as { error?: unknown } | null)?.error);
      if (refusal.success) throw ApiError.fromWire(refusal.data);
      const message =
        (body as { error?: { message?: string } } | null)?.error?.message ||
        (body as { message?: string } | null)?.message ||
        text.trim() ||
        `The upload was refused (HTTP ${res.status}).`;
      throw new ApiError("upload_failed", message);
    }
    const jobId = (body as { jobId?: unknown } | null)?.jobId;
    if (typeof jobId !== "string" || !jobId)
      throw new ApiError(
        "invalid_reply",
        "Exitlane accepted the upload but did not say which import job it started.",
      );
    return { jobId };
  }

  connect();

  return {
    transport: "websocket",
    request,
    on,
    importFiles,
    get connectionState() {
      return state;
    },
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closedByUser = true;
      clearTimeout(reconnectTimer);
      for (const [id, p] of pending) {
        pending.delete(id);
        clearTimeout(p.timer);
        p.reject(
          new ApiError("disconnected", "The connection to Exitlane was closed.", { channel: p.channel }),
        );
      }
      outbox.length = 0;
      socket?.close(1000, "closed by the page");
      if (!socket) setState("closed");
    },
  };
}

export function isConnectionAware(api: ExitlaneApi): api is ExitlaneApi & ConnectionAware {
  return typeof (api as Partial<ConnectionAware>).onConnectionChange === "function";
}

/** A readable message for any error thrown by a request. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  if (
    err &&
    typeof err === "object" &&
    "message" in err &&
    typeof (err as { message: unknown }).message === "string"
  )
    return (err as { message: string }).message;
  return "Something went wrong.";
}
