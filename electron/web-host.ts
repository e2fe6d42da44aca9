// The loopback web host: the built renderer over HTTP and the typed contract over a WebSocket,
// for a browser when Electron is not available, and for the e2e tests. It listens on 127.0.0.1
// only, on a free port, and every request and socket needs this run's random token.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { eventBatches } from "./event-batches.js";
import { UPLOAD_PATH, WS_PATH, WsRequest, type Channel, type EventName, type WsMessage } from "./contract.js";
import { securityHeaders } from "./csp.js";
import type { Dispatch } from "./dispatch.js";
import type { EventBus } from "./services/event-bus.js";
import { WebAuth, newToken, tokenCookie } from "./web-auth.js";
import { send, serveStatic } from "./web-static.js";
import { DEFAULT_UPLOAD_LIMITS, handleUpload, type UploadOptions } from "./web-upload.js";

export interface WebHostOptions {
  dispatch: Dispatch;
  events: EventBus;
  rendererDir: string;
  uploadRoot: string;
  startImport: UploadOptions["startImport"];
  uploadLimits?: UploadOptions["limits"];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Fixed token for tests; a fresh random one otherwise. */
  token?: string;
}

export interface WebHost {
  port: number;
  origin: string;
  token: string;
  /** The address to open: carries the token once, the page then keeps it in a cookie. */
  url: string;
  close(): Promise<void>;
}

/**
 * Channels the web host's back end refuses: a page could put any path into them, and over the web
 * host no path comes from a file the user chose (models arrive as uploads). The folder dialogs
 * (models.importDialog, settings.chooseModelsDir) refuse by themselves where there is no dialog, and
 * settings.set refuses to change modelsDir.
 */
export const WEB_HOST_REFUSALS: Partial<Record<Channel, string>> = {
  "models.importPath":
    "Over the web host, models are imported by uploading them (drop the file on the window).",
};

/** Larger than the biggest valid request (a 1,000,000-character message). */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** A client that stops reading is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? newToken();
  const headers = securityHeaders();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let auth: WebAuth | null = null;

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((error) => {
      console.error("[web] request failed:", error);
      if (!res.headersSent) send(res, 500, "Internal error", headers);
      else res.end();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const check = auth!.check(req, url);
    if (!check.ok)
      return send(
        res,
        403,
        "Forbidden: open the address Exitlane printed when it started (it carries the access token).",
        headers,
      );
    const reply = check.fromQuery ? { ...headers, "Set-Cookie": tokenCookie(auth!.port, token) } : headers;
    if (url.pathname === UPLOAD_PATH) {
      if (req.method !== "POST") return send(res, 405, "Use POST", { ...reply, Allow: "POST" });
      if (!auth!.originAllowed(req, { required: false }))
        return send(res, 403, "Forbidden: foreign origin", headers);
      return handleUpload(
        req,
        res,
        {
          uploadRoot: options.uploadRoot,
          limits: options.uploadLimits ?? DEFAULT_UPLOAD_LIMITS,
          startImport: options.startImport,
        },
        reply,
      );
    }
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "Method not allowed", { ...reply, Allow: "GET, HEAD" });
    return serveStatic(options.rendererDir, url.pathname, res, reply, req.method === "HEAD");
  }

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== WS_PATH) return refuse("404 Not Found");
    if (!auth!.check(req, url).ok || !auth!.originAllowed(req, { required: true }))
      return refuse("403 Forbidden");
    sockets.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, options));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("The web host did not get a TCP port.");
  auth = new WebAuth(token, address.port);
  const origin = `http://127.0.0.1:${address.port}`;

  return {
    port: address.port,
    origin,
    token,
    url: `${origin}/?token=${token}`,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

function serveSocket(ws: WebSocket, { dispatch, events }: WebHostOptions) {
  const send = (message: WsMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1013, "Client too slow");
    ws.send(JSON.stringify(message));
  };
  const batches = eventBatches((events) => send({ type: "events", events }));
  const sendMessage = (message: WsMessage) => {
    batches.flush();
    send(message);
  };
  const unsubscribe = events.subscribe((event: EventName, payload: unknown) => batches.push(event, payload));
  ws.on("close", () => {
    unsubscribe();
    batches.clear();
  });
  ws.on("error", () => ws.terminate());
  ws.on("message", (data, isBinary) => {
    const bad = (id: number, message: string) =>
      sendMessage({ type: "reply", id, ok: false, error: { code: "bad_request", message } });
    if (isBinary) return bad(-1, "Binary messages are not accepted; send JSON text.");
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      return bad(-1, "The message is not valid JSON.");
    }
    const request = WsRequest.safeParse(raw);
    if (!request.success) {
      const id = (raw as { id?: unknown })?.id;
      return bad(
        Number.isInteger(id) ? (id as number) : -1,
        "A request must be { id: integer, channel: string, payload }.",
      );
    }
    const { id, channel, payload } = request.data;
    void dispatch(channel, payload).then((envelope) => sendMessage({ type: "reply", id, ...envelope }));
  });
}
