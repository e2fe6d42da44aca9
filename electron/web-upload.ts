// The browser build's model import: the dropped files arrive as multipart/form-data, are streamed
// to a fresh temporary folder (never held in memory), checked against size limits as they arrive,
// and then imported from there. The folder is removed when the import job ends, or at once when
// the upload or the import is refused.
import busboy from "busboy";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ErrorCode, WireError } from "../wire/errors.js";
import { parseUploadQuery, type ImportOptions } from "./contract.js";
import type { ImportRequest } from "./services/import-jobs.js";
import { ChannelError } from "./services/errors.js";

export interface UploadLimits {
  /** All files of one upload together. */
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxBytes: 64 * 1024 ** 3, maxFiles: 64 };

export interface UploadOptions {
  uploadRoot: string;
  limits: UploadLimits;
  startImport(request: ImportRequest): Promise<{ jobId: string }>;
}

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unknown_channel: 404,
  not_found: 404,
  conflict: 409,
  cancelled: 409,
  not_implemented: 501,
  model_format: 422,
  failed: 500,
  engine_error: 503,
  engine_crashed: 503,
  engine_stopped: 503,
  context_full: 422,
  download: 502,
  already_imported: 409,
  internal: 500,
};

class UploadError extends ChannelError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super("bad_request", message);
  }
}

/**
 * A file's relative path as the browser sent it ("model/config.json"), made safe: plain segments
 * only, no "..", no absolute paths, no device names' special characters.
 */
export function safeRelativePath(name: string): string | null {
  const segments = name.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segments.length === 0 || segments.length > 8) return null;
  for (const segment of segments) {
    if (segment === ".." || segment.length > 255 || /^\.+$/.test(segment)) return null;
    if (/[<>:"|?*]/.test(segment) || [...segment].some((c) => c.charCodeAt(0) < 0x20)) return null;
  }
  return segments.join("/");
}

/** What to import: the one file, the one folder all files share, or the upload folder itself. */
export function importSource(folder: string, names: string[]): { source: string; displayName: string } {
  if (names.length === 1)
    return { source: path.join(folder, names[0]), displayName: path.posix.basename(names[0]) };
  const tops = new Set(names.map((n) => n.split("/")[0]));
  const [top] = [...tops];
  if (tops.size === 1 && names.every((n) => n.includes("/")))
    return { source: path.join(folder, top), displayName: top };
  return { source: folder, displayName: `${names.length} files` };
}

export async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  options: UploadOptions,
  headers: Record<string, string>,
) {
  const folder = path.join(options.uploadRoot, randomUUID());
  try {
    const importOptions = uploadOptions(req.url);
    const names = await receive(req, folder, options.limits);
    const { source, displayName } = importSource(folder, names);
    const { jobId } = await options.startImport({
      source,
      displayName,
      ...importOptions,
      cleanup: () => rm(folder, { recursive: true, force: true }),
    });
    reply(res, 200, { jobId }, headers);
  } catch (error) {
    await rm(folder, { recursive: true, force: true }).catch(() => undefined);
    if (!(error instanceof ChannelError)) console.error("[upload] failed:", error);
    const status =
      error instanceof UploadError ? error.status : error instanceof ChannelError ? STATUS[error.code] : 500;
    const message = error instanceof Error ? error.message : String(error);
    const wire: WireError =
      error instanceof ChannelError
        ? { code: error.code, message, ...(error.detail ? { detail: error.detail } : {}) }
        : { code: "internal", message };
    // Stop reading a refused body; the connection closes after the reply.
    reply(res, status, { error: wire }, { ...headers, Connection: "close" });
    req.unpipe();
    req.resume();
  }
}

/** The import options in the upload's query (quantization, import again); checked before any byte is read. */
function uploadOptions(url: string | undefined): ImportOptions {
  try {
    return parseUploadQuery(new URL(url ?? "/", "http://upload.invalid").searchParams);
  } catch {
    throw new UploadError(400, "Bad import options: quant must be int4, int8, f16 or f32, again must be 1.");
  }
}

function receive(req: IncomingMessage, folder: string, limits: UploadLimits): Promise<string[]> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limits.maxBytes + 1024 * 1024) {
    return Promise.reject(
      new UploadError(413, `The upload is too large (limit ${formatBytes(limits.maxBytes)}).`),
    );
  }
  if (!/^multipart\/form-data;/i.test(req.headers["content-type"] ?? "")) {
    return Promise.reject(new UploadError(415, "Send the files as multipart/form-data."));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        preservePath: true,
        limits: { files: limits.maxFiles, fileSize: limits.maxBytes, fields: 0, parts: limits.maxFiles },
      });
    } catch (error) {
      return reject(new UploadError(400, `Malformed upload: ${(error as Error).message}`));
    }
    const names: string[] = [];
    const writes: Array<Promise<unknown>> = [];
    const open = new Set<Readable>();
    let total = 0;
    let failed = false;
    // On failure: stop reading, end the files being written, and only then report, so the
    // caller's cleanup never races a write that is still creating files.
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      for (const stream of open) stream.destroy();
      void Promise.allSettled(writes).then(() => reject(error));
    };
    const tooLarge = () =>
      new UploadError(413, `The upload is too large (limit ${formatBytes(limits.maxBytes)}).`);
    parser.on("file", (field, stream, info) => {
      const name = safeRelativePath(info.filename ?? "");
      if (field !== "file" || !name || names.includes(name)) {
        stream.resume();
        return fail(
          new UploadError(400, `Refused file name ${JSON.stringify(info.filename)} (field "${field}").`),
        );
      }
      names.push(name);
      open.add(stream);
      const target = path.join(folder, name);
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          total += chunk.length;
          done(total > limits.maxBytes ? tooLarge() : null, chunk);
        },
      });
      stream.on("limit", () => fail(tooLarge()));
      writes.push(
        mkdir(path.dirname(target), { recursive: true })
          .then(() => {
            if (failed) throw new Error("upload refused");
            return pipeline(stream, count, createWriteStream(target, { flags: "wx" }));
          })
          .catch((error: Error) =>
            fail(
              error instanceof UploadError
                ? error
                : new UploadError(400, `Could not receive ${name}: ${error.message}`),
            ),
          )
          .finally(() => open.delete(stream)),
      );
    });
    parser.on("filesLimit", () => fail(new UploadError(413, `Too many files (limit ${limits.maxFiles}).`)));
    parser.on("partsLimit", () => fail(new UploadError(413, `Too many parts (limit ${limits.maxFiles}).`)));
    parser.on("fieldsLimit", () => fail(new UploadError(400, "Only files are accepted.")));
    parser.on("error", (error: Error) => fail(new UploadError(400, `Malformed upload: ${error.message}`)));
    req.on("aborted", () => fail(new UploadError(400, "The upload was interrupted.")));
    parser.on("close", () => {
      void Promise.all(writes).then(() => {
        if (failed) return;
        if (names.length === 0) return fail(new UploadError(400, "The upload contained no files."));
        resolve(names);
      });
    });
    req.pipe(parser);
  });
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
  });
  res.end(JSON.stringify(body));
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
