// Downloads one file of a hub repo into its own folder under `downloads` (beside the models folder,
// never inside it): bytes go to `<name>.part` with a sidecar `download.json` (url, etag, sha256,
// size), so a dropped connection (retried here with backoff) or a later run (after a restart)
// resumes with Range + If-Range instead of starting over. The SHA-256 is computed as the bytes
// arrive (the .part is re-read on resume) and checked against the hub's before the file is renamed
// to its final name. A cancel or a failure that makes the .part worthless (hash mismatch, a server
// that ignores Range) removes the folder; a network failure keeps it for the next attempt.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { ChannelError } from "../errors.js";
import { encodePath } from "./hub-client.js";
import { downloadError, headersFor, hubFetch, statusError, type HubAccess } from "./hub-http.js";

/** Room kept free beyond the file itself and the package the import writes (about the file's size). */
export const DISK_MARGIN_BYTES = 64 * 1024 * 1024;
const RETRY_DELAYS_MS = [250, 1000, 3000];
const MAX_REDIRECTS = 5;
/** Abort with this reason (the app quitting) to stop a download but keep its .part for the next run. */
export const KEEP_PART = "keep-part";

export interface DownloadRequest {
  access: HubAccess;
  repo: string;
  file: string;
  /** `downloads` beside the models folder. */
  downloadsDir: string;
  /** From the tree listing, when it gave them (else the resolve reply's X-Linked-* headers). */
  expected?: { sha256: string | null; sizeBytes: number };
  signal?: AbortSignal;
  onProgress?: (receivedBytes: number, totalBytes: number) => void;
  /** Called once all bytes are in, before the hash is compared. */
  onVerifying?: () => void;
  /** Free bytes on the disk holding `dir` (injectable for tests). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface DownloadedFile {
  path: string;
  /** The download's own folder: remove it once the file has been imported. */
  folder: string;
  sha256: string;
  sizeBytes: number;
}

interface Sidecar {
  url: string;
  etag: string | null;
  sha256: string | null;
  sizeBytes: number;
}

export async function diskFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Where downloads go: beside the models folder, so nothing half-written is ever inside it. */
export const downloadsDirFor = (modelsDir: string) => path.join(path.dirname(modelsDir), "downloads");

/** The download's folder: one per repo file, so a restart finds the same .part. */
export function downloadFolder(downloadsDir: string, repo: string, file: string): string {
  return path.join(downloadsDir, `${repo}/${file}`.replace(/[^A-Za-z0-9._-]+/g, "--"));
}

export async function downloadFile(r: DownloadRequest): Promise<DownloadedFile> {
  const folder = downloadFolder(r.downloadsDir, r.repo, r.file);
  const name = path.basename(r.file);
  const part = path.join(folder, `${name}.part`);
  const sidecarPath = path.join(folder, "download.json");
  const url = new URL(`${r.access.endpoint}/${encodePath(r.repo)}/resolve/main/${encodePath(r.file)}`);
  try {
    await mkdir(folder, { recursive: true });
    let side = await readSidecar(sidecarPath, url.href, r.expected);
    let have = side ? await sizeOf(part) : 0;
    if (!side || have > side.sizeBytes) {
      await rm(part, { force: true });
      have = 0;
    }
    const hash = createHash("sha256");
    if (have > 0) await hashExisting(part, have, hash, r.signal);

    // A run that ended after the last byte but before the check needs nothing more from the hub.
    for (let attempt = 0; !(side && have === side.sizeBytes); attempt++) {
      try {
        const opened = await openFrom(r, url, have, side);
        side = opened.side;
        if (attempt === 0) await checkDisk(r, folder, side.sizeBytes - have, side.sizeBytes);
        await writeFile(sidecarPath, JSON.stringify(side));
        have = await appendBody(opened.body, part, have, side.sizeBytes, hash, r);
        break;
      } catch (error) {
        if (r.signal?.aborted || !isRetryable(error) || attempt >= RETRY_DELAYS_MS.length) throw error;
        await sleep(RETRY_DELAYS_MS[attempt]!, r.signal);
        have = await sizeOf(part);
      }
    }
    r.onVerifying?.();
    const sha256 = hash.digest("hex");
    if (have !== side!.sizeBytes || (side!.sha256 && sha256 !== side!.sha256))
      throw downloadError(
        "hash_mismatch",
        `The downloaded ${name} does not match the checksum Hugging Face published (${have} of ${side!.sizeBytes} bytes, SHA-256 ${sha256.slice(0, 12)}… instead of ${side!.sha256?.slice(0, 12) ?? "?"}…): it was damaged on the way. It has been deleted; download it again.`,
      );
    const final = path.join(folder, name);
    await rename(part, final);
    await rm(sidecarPath, { force: true });
    return { path: final, folder, sha256, sizeBytes: have };
  } catch (error) {
    const keep = r.signal?.aborted ? r.signal.reason === KEEP_PART : keepsPart(error);
    if (!keep) await rm(folder, { recursive: true, force: true });
    if (r.signal?.aborted) throw new ChannelError("cancelled", `The download of ${name} was cancelled.`);
    throw error;
  }
}

/** Only a lost connection leaves the .part (for the next attempt); every other failure removes it. */
function keepsPart(error: unknown): boolean {
  return error instanceof ChannelError && error.detail?.downloadCode === "network";
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof ChannelError)) return false;
  const { downloadCode, httpStatus } = error.detail ?? {};
  return downloadCode === "network" || (downloadCode === "bad_reply" && (httpStatus ?? 0) >= 500);
}

async function readSidecar(file: string, url: string, expected: DownloadRequest["expected"]) {
  try {
    const side = JSON.parse(await readFile(file, "utf8")) as Sidecar;
    if (side.url !== url) return null;
    if (expected?.sha256 && side.sha256 !== expected.sha256) return null; // The repo's file changed.
    return side;
  } catch {
    return null;
  }
}

/**
 * GET the resolve URL, following the hub's redirect to its storage by hand (to read X-Linked-Etag
 * and X-Linked-Size on the way, and keep the token off other hosts), from byte `from` on.
 */
async function openFrom(r: DownloadRequest, start: URL, from: number, known: Sidecar | null) {
  const what = `The file ${r.file} of ${r.repo}`;
  let sha256 = r.expected?.sha256 ?? known?.sha256 ?? null;
  let sizeBytes = r.expected?.sizeBytes || known?.sizeBytes || 0;
  let url = start;
  const etag = known?.etag;
  const range: Record<string, string> =
    from > 0
      ? { range: `bytes=${from}-`, ...(etag && !etag.startsWith("W/") ? { "if-range": etag } : {}) }
      : {};
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await hubFetch(
      url,
      { headers: headersFor(r.access, url, range), redirect: "manual", signal: r.signal },
      what,
    );
    const linkedEtag = res.headers.get("x-linked-etag");
    const linkedSize = Number(res.headers.get("x-linked-size") ?? "");
    if (linkedEtag && !sha256) sha256 = shaOfEtag(linkedEtag);
    if (linkedSize > 0 && !sizeBytes) sizeBytes = linkedSize;
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw statusError(res.status, what, r.repo);
    }
    if (from > 0 && res.status === 200) {
      await res.body?.cancel();
      throw downloadError(
        "range_ignored",
        `The download of ${r.file} was interrupted and cannot resume: the server sent the whole file again instead of the rest (it ignored the Range request). The partial file has been deleted; start the download again.`,
      );
    }
    if (!sizeBytes) sizeBytes = Number(res.headers.get("content-length") ?? "0") + from;
    if (!res.body || !sizeBytes)
      throw downloadError("bad_reply", `Hugging Face did not say how large ${r.file} is; try again later.`);
    const side: Sidecar = {
      url: start.href,
      etag: res.headers.get("etag") ?? linkedEtag ?? etag ?? null,
      sha256,
      sizeBytes,
    };
    return { body: res.body, side };
  }
  throw downloadError("bad_reply", `Hugging Face redirected ${r.file} more than ${MAX_REDIRECTS} times.`);
}

/** An ETag as the hub sends it ("<sha256>", maybe W/-prefixed) → the SHA-256, when it is one. */
export function shaOfEtag(etag: string): string | null {
  const bare = etag.replace(/^W\//, "").replace(/^"|"$/g, "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(bare) ? bare : null;
}

async function checkDisk(r: DownloadRequest, folder: string, remaining: number, size: number) {
  const free = await (r.freeBytes ?? diskFreeBytes)(folder);
  const need = remaining + size + DISK_MARGIN_BYTES;
  if (free < need)
    throw downloadError(
      "disk_full",
      `Not enough free disk space for ${path.basename(r.file)}: it needs about ${gb(need)} (the file, the model the import makes of it, and some room) and ${gb(free)} is free. Free some space and try again.`,
    );
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e8 ? 3 : 1)} GB`;

async function appendBody(
  body: ReadableStream<Uint8Array>,
  part: string,
  have: number,
  total: number,
  hash: Hash,
  r: DownloadRequest,
): Promise<number> {
  const fh = await open(part, "a");
  let received = have;
  try {
    r.onProgress?.(received, total);
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      if (received + chunk.length > total)
        throw downloadError(
          "hash_mismatch",
          `Hugging Face sent more bytes of ${r.file} than its size (${total}).`,
        );
      await fh.write(chunk);
      hash.update(chunk);
      received += chunk.length;
      r.onProgress?.(received, total);
    }
  } catch (error) {
    if (error instanceof ChannelError || r.signal?.aborted) throw error;
    throw downloadError(
      "network",
      `The connection dropped while downloading ${r.file} (${received} of ${total} bytes); check the internet connection and try again.`,
    );
  } finally {
    await fh.close();
  }
  if (received < total)
    throw downloadError(
      "network",
      `The connection ended early while downloading ${r.file} (${received} of ${total} bytes); try again.`,
    );
  return received;
}

async function hashExisting(part: string, bytes: number, hash: Hash, signal?: AbortSignal) {
  for await (const chunk of createReadStream(part, { end: bytes - 1, signal })) hash.update(chunk as Buffer);
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
