// The downloader on its own, against the local hub stand-in: the size and SHA-256 taken from the
// resolve reply when no listing gave them, a cancel at the verify step, and a download stopped for
// shutdown (its .part kept) that the next run resumes.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { haveShared, stories } from "../../../native-models/test-support/shared-fixtures.js";
import { STORIES_FILE, testRepos } from "../../test-support/download-checks.js";
import { startHubServer, type HubServer } from "../../test-support/hub-server.js";
import { downloadFile, downloadFolder, KEEP_PART } from "./download-file.js";

describe.skipIf(!haveShared("models/stories260K/gguf"))("downloadFile", () => {
  let hub: HubServer;
  let dir: string;
  beforeEach(async () => {
    hub = await startHubServer(testRepos());
    dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-download-file-"));
  });
  afterEach(async () => {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const request = (signal?: AbortSignal) => ({
    access: { endpoint: hub.url, token: () => null },
    repo: "test/stories-GGUF",
    file: STORIES_FILE,
    downloadsDir: dir,
    signal,
  });
  const sha = createHash("sha256").update(readFileSync(stories.ggufQ8)).digest("hex");
  const size = statSync(stories.ggufQ8).size;

  it("takes the size and SHA-256 from X-Linked-Size and X-Linked-Etag when no listing gave them", async () => {
    const got = await downloadFile(request());
    expect(got).toMatchObject({ sha256: sha, sizeBytes: size });
    expect(readFileSync(got.path).equals(readFileSync(stories.ggufQ8))).toBe(true);
    expect(readFileSync(got.path).length).toBe(size);
  });

  it("leaves nothing when cancelled while verifying", async () => {
    const abort = new AbortController();
    await expect(
      downloadFile({ ...request(abort.signal), onVerifying: () => abort.abort() }),
    ).rejects.toMatchObject({
      code: "cancelled",
    });
    expect(existsSync(downloadFolder(dir, "test/stories-GGUF", STORIES_FILE))).toBe(false);
  });

  it("keeps the .part when stopped for shutdown, and the next run fetches only the rest", async () => {
    hub.faults.bytesPerSecond = 150_000;
    const abort = new AbortController();
    let seen = 0;
    const stopped = downloadFile({
      ...request(abort.signal),
      onProgress: (received) => {
        seen = received;
        if (received > size / 3) abort.abort(KEEP_PART);
      },
    });
    await expect(stopped).rejects.toMatchObject({ code: "cancelled" });
    const folder = downloadFolder(dir, "test/stories-GGUF", STORIES_FILE);
    const kept = statSync(path.join(folder, `${STORIES_FILE}.part`)).size;
    expect(kept).toBe(seen);
    expect(JSON.parse(readFileSync(path.join(folder, "download.json"), "utf8"))).toMatchObject({
      sha256: sha,
      sizeBytes: size,
      etag: `"${sha}"`,
    });
    hub.faults.bytesPerSecond = undefined;
    const before = hub.bytesSent();
    const got = await downloadFile(request());
    expect(got.sha256).toBe(sha);
    expect(hub.bytesSent() - before).toBe(size - kept);
    expect(hub.requests.at(-1)).toBe(`GET /storage/${sha} bytes=${kept}-`);
  });
});
