// sha256 and size of what the user imported (a file, or every file of a folder), streamed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { throwIfAborted } from "../formats/cancel.js";

export async function hashSource(
  source: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const info = await stat(source);
  const files = info.isDirectory()
    ? (await readdir(source)).sort().map((f) => path.join(source, f))
    : [source];
  const hash = createHash("sha256");
  let bytes = 0;
  for (const file of files) {
    if (!(await stat(file)).isFile()) continue;
    // Checked per 4 MiB chunk (a stream given the signal would throw Node's own AbortError instead).
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
      throwIfAborted(signal);
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  }
  return { bytes, sha256: hash.digest("hex") };
}
