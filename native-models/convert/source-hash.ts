// sha256 and size of what the user imported (a file, or every file of a folder), streamed on a
// worker thread: an import hashes while it converts (TinyLlama's 640 MB took ~0.35 s of the
// import's one JavaScript thread before it could start converting).
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { CancelledError, throwIfAborted } from "../formats/cancel.js";

export interface SourceHash {
  bytes: number;
  sha256: string;
}

// The worker's program (plain CommonJS, so it runs beside any bundle without a file of its own).
const HASH_PROGRAM = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { createReadStream } = require("node:fs");
(async () => {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const file of workerData.files)
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  parentPort.postMessage({ bytes, sha256: hash.digest("hex") });
})().catch((error) => parentPort.postMessage({ error: String((error && error.message) || error) }));
`;

export async function hashSource(source: string, signal?: AbortSignal): Promise<SourceHash> {
  const info = await stat(source);
  const names = info.isDirectory()
    ? (await readdir(source)).sort().map((f) => path.join(source, f))
    : [source];
  const files: string[] = [];
  for (const file of names) if ((await stat(file)).isFile()) files.push(file);
  throwIfAborted(signal);
  const worker = new Worker(HASH_PROGRAM, { eval: true, workerData: { files } });
  const stop = () => void worker.terminate();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    return await new Promise<SourceHash>((resolve, reject) => {
      worker.once("message", (m: SourceHash | { error: string }) =>
        "error" in m ? reject(new Error(`could not read ${source}: ${m.error}`)) : resolve(m),
      );
      worker.once("error", reject);
      worker.once("exit", () => {
        if (signal?.aborted) reject(new CancelledError());
        else reject(new Error(`hashing ${source} stopped before it finished`));
      });
    });
  } finally {
    signal?.removeEventListener("abort", stop);
    void worker.terminate();
  }
}
