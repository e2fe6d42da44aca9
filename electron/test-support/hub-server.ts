// A local stand-in for the Hugging Face hub, speaking the hub's real API shapes, for download tests
// and the e2e spec (never product code):
//   GET /api/models/{repo}                        model info: { id, gguf?: { architecture }, cardData?: { license } }
//   GET /api/models/{repo}/tree/main?recursive=1  [{ type, path, size, oid, lfs?: { oid, size } }]
//   GET /{repo}/resolve/main/{path}               302 to the file's storage URL, with X-Linked-Etag
//                                                 (the SHA-256 in quotes) and X-Linked-Size
//   GET /storage/{sha256}                         the bytes: ETag, Accept-Ranges, Range, If-Range
// Faults a test can switch on: a token every request must carry (401 without it), gated repos
// (403), a connection that drops once after a fraction of a file, a server that ignores Range, a
// flipped byte in what is served, and a bandwidth limit (so progress is visible).
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface HubRepo {
  files: Array<{ path: string; source: string }>;
  /** What the hub's metadata says of the GGUF (GET /api/models/{repo} → gguf.architecture). */
  architecture?: string;
  license?: string;
  /** Answers 403 to every file request, as a gated model does for an account without access. */
  gated?: boolean;
}

export interface HubFaults {
  /** Every request must send `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Drop the connection once, after this fraction of a file's bytes (then serve normally). */
  dropOnceAt?: number;
  /** Answer 200 with the whole file to every Range request. */
  ignoreRange?: boolean;
  /** Flip the byte at this offset of every file served (the published hash stays the true one). */
  corruptByteAt?: number;
  /** Serve at most this many bytes per second. */
  bytesPerSecond?: number;
}

export interface HubServer {
  /** The endpoint, as EXITLANE_HF_ENDPOINT takes it (no trailing slash). */
  url: string;
  /** Bytes of file content sent so far (all files, all requests). */
  bytesSent(): number;
  /** Every request, as "METHOD path [range]". */
  requests: string[];
  faults: HubFaults;
  close(): Promise<void>;
}

interface Stored {
  repo: string;
  path: string;
  source: string;
  size: number;
  sha256: string;
}

export async function startHubServer(
  repos: Record<string, HubRepo>,
  faults: HubFaults = {},
): Promise<HubServer> {
  const files = new Map<string, Stored>();
  const bySha = new Map<string, Stored>();
  for (const [repo, r] of Object.entries(repos))
    for (const f of r.files) {
      const sha256 = createHash("sha256").update(readFileSync(f.source)).digest("hex");
      const stored = { repo, path: f.path, source: f.source, size: statSync(f.source).size, sha256 };
      files.set(`${repo}/${f.path}`, stored);
      bySha.set(sha256, stored);
    }
  let sent = 0;
  let dropped = false;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://hub");
    requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ""}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (faults.token && req.headers.authorization !== `Bearer ${faults.token}`)
      return json(401, { error: "Invalid credentials in Authorization header" });
    const api = /^\/api\/models\/([^/]+\/[^/]+)(\/tree\/main)?$/.exec(url.pathname);
    if (api) {
      const repo = repos[api[1]!];
      if (!repo) return json(404, { error: "Repository not found" });
      if (!api[2])
        return json(200, {
          id: api[1],
          ...(repo.architecture ? { gguf: { architecture: repo.architecture } } : {}),
          ...(repo.license ? { cardData: { license: repo.license } } : {}),
        });
      return json(
        200,
        repo.files.map((f) => {
          const s = files.get(`${api[1]}/${f.path}`)!;
          return {
            type: "file",
            path: s.path,
            size: s.size,
            oid: createHash("sha1").update(s.sha256).digest("hex"),
            lfs: { oid: s.sha256, size: s.size, pointerSize: 134 },
          };
        }),
      );
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const repo = repos[resolve[1]!];
      const stored = files.get(`${resolve[1]}/${decodeURIComponent(resolve[2]!)}`);
      if (!repo || !stored) return json(404, { error: "Entry not found" });
      if (repo.gated) return json(403, { error: `Access to model ${resolve[1]} is restricted.` });
      res.writeHead(302, {
        location: `/storage/${stored.sha256}`,
        "x-linked-etag": `"${stored.sha256}"`,
        "x-linked-size": String(stored.size),
        "x-repo-commit": "0".repeat(40),
      });
      return res.end();
    }
    const storage = /^\/storage\/([0-9a-f]{64})$/.exec(url.pathname);
    const stored = storage && bySha.get(storage[1]!);
    if (!stored) return json(404, { error: "Entry not found" });
    serveFile(req, res, stored);
  });

  function serveFile(req: http.IncomingMessage, res: http.ServerResponse, f: Stored): void {
    const etag = `"${f.sha256}"`;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const ifRange = req.headers["if-range"];
    const honour = range && !faults.ignoreRange && (ifRange === undefined || ifRange === etag);
    const start = honour ? Number(range[1]) : 0;
    if (start > f.size) {
      res.writeHead(416, { "content-range": `bytes */${f.size}` });
      return void res.end();
    }
    res.writeHead(honour ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(f.size - start),
      "accept-ranges": "bytes",
      etag,
      ...(honour ? { "content-range": `bytes ${start}-${f.size - 1}/${f.size}` } : {}),
    });
    const dropAt =
      faults.dropOnceAt !== undefined && !dropped ? Math.floor(f.size * faults.dropOnceAt) : Infinity;
    let offset = start;
    const stream = createReadStream(f.source, { start, highWaterMark: 64 * 1024 });
    stream.on("data", (chunk) => {
      let bytes = chunk as Buffer;
      if (offset + bytes.length > dropAt) {
        bytes = bytes.subarray(0, Math.max(0, dropAt - offset));
        dropped = true;
        stream.destroy();
        sent += bytes.length;
        res.write(bytes, () => res.socket?.destroy());
        return;
      }
      const at = faults.corruptByteAt;
      if (at !== undefined && at >= offset && at < offset + bytes.length) {
        bytes = Buffer.from(bytes);
        bytes[at - offset]! ^= 0xff;
      }
      offset += bytes.length;
      sent += bytes.length;
      const more = res.write(bytes);
      const wait = faults.bytesPerSecond ? (bytes.length / faults.bytesPerSecond) * 1000 : 0;
      if (!more || wait > 0) {
        stream.pause();
        const resume = () => setTimeout(() => stream.resume(), wait);
        if (more) resume();
        else res.once("drain", resume);
      }
    });
    stream.on("end", () => res.end());
    res.on("close", () => stream.destroy());
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bytesSent: () => sent,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
