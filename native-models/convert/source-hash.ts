// sha256 and size of what the user imported (a file, or every file of a folder), streamed.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

export async function hashSource(source: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string }> {
  const info = await stat(source);
  const files = info.isDirectory()
    ? (await readdir(source)).sort().map((f) => path.join(source, f))
    : [source];
  const hash = createHash("sha256");
  let bytes = 0;
  for (const file of files) {
    if (!(await stat(file)).isFile()) continue;
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20, signal })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  }
  return { bytes, sha256: hash.digest("hex") };
}
