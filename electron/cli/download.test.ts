// The CLI's `download` as a user runs it (a child process) against the local hub stand-in: a
// download that imports, a 404 that leaves the models folder as it was, a repo with several files,
// and a run killed midway whose .part the app's back end then resumes.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { haveShared, stories } from "../../native-models/test-support/shared-fixtures.js";
import { download, STORIES_FILE, testRepos } from "../test-support/download-checks.js";
import { startHubServer, type HubServer } from "../test-support/hub-server.js";
import { realBackends, until } from "../test-support/real-backend.js";
import { downloadFolder } from "../services/hub/download-file.js";

const start = realBackends();
let hub: HubServer;
let dir: string;
beforeEach(async () => {
  hub = await startHubServer({
    ...testRepos(),
    "test/two-GGUF": {
      files: [
        { path: "stories260K-f32.gguf", source: stories.gguf },
        { path: STORIES_FILE, source: stories.ggufQ8 },
      ],
      architecture: "llama",
    },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-cli-download-"));
});
afterEach(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onSpawn?: (pid: number) => void): Promise<Run> {
  const child = spawn("npx", ["tsx", "electron/cli.ts", "download", ...args], {
    env: { ...process.env, EXITLANE_HF_ENDPOINT: hub.url, EXITLANE_HF_TOKEN: "", HF_TOKEN: "" },
    detached: true, // Its own process group, so a test can kill npx and the CLI under it at once.
  });
  onSpawn?.(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe.skipIf(!haveShared("models/stories260K/gguf"))("exitlane download (CLI)", () => {
  it(
    "downloads and imports, printing progress on stderr and the import's JSON line last",
    { timeout: 120_000 },
    async () => {
      const models = path.join(dir, "models");
      const run = await cli(["test/stories-GGUF", "--file", STORIES_FILE, "--models-dir", models, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const last = JSON.parse(run.stdout.trim().split("\n").pop()!);
      expect(last).toMatchObject({ arch: "llama", layers: 5, params: 260_032, quant: "int4" });
      expect(readdirSync(models)).toEqual([last.id]);
      expect(run.stderr).toMatch(/\[download\] 100% 0\.5 MB of 0\.5 MB/);
      expect(run.stderr).toMatch(/\[write\]/);
      expect(readdirSync(path.join(dir, "downloads"))).toEqual([]);
    },
  );

  it(
    "fails a missing repo with its reason and exit 1, and asks for --file when there is a choice",
    { timeout: 120_000 },
    async () => {
      const models = path.join(dir, "models");
      mkdirSync(models);
      const missing = await cli(["test/no-such-GGUF", "--models-dir", models, "--json"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(
        /The model test\/no-such-GGUF does not exist on Hugging Face.*\[not_found\]/,
      );
      expect(missing.stdout).toBe("");
      expect(readdirSync(models)).toEqual([]);

      const choice = await cli(["https://huggingface.co/test/two-GGUF/tree/main", "--models-dir", models]);
      expect(choice.code).toBe(2);
      expect(choice.stderr).toMatch(
        /test\/two-GGUF has 2 GGUF files; choose one with --file <name>:\n {2}stories260K-f32\.gguf {2}1\.1 MB/,
      );
      expect(readdirSync(models)).toEqual([]);
    },
  );

  it(
    "leaves a .part and its sidecar when killed, which the app's back end then resumes",
    { timeout: 180_000 },
    async () => {
      hub.faults.bytesPerSecond = 100_000;
      const size = statSync(stories.ggufQ8).size;
      const folder = downloadFolder(path.join(dir, "downloads"), "test/stories-GGUF", STORIES_FILE);
      const part = path.join(folder, `${STORIES_FILE}.part`);
      let pid = 0;
      const run = cli(["test/stories-GGUF", "--models-dir", path.join(dir, "models")], (p) => (pid = p));
      await until(() => existsSync(part) && statSync(part).size > size / 3, 60_000, "a third of the file");
      process.kill(-pid, "SIGKILL");
      await run;
      const kept = statSync(part).size;
      expect(kept).toBeLessThan(size);
      expect(existsSync(path.join(folder, "download.json"))).toBe(true);

      hub.faults.bytesPerSecond = undefined;
      const sentBefore = hub.bytesSent();
      const b = await start({
        stories: false,
        select: false,
        userDataDir: dir,
        backend: { hubEndpoint: hub.url },
      });
      const job = await download(b, "test/stories-GGUF", STORIES_FILE);
      expect(job.state, job.error).toBe("done");
      expect(hub.bytesSent() - sentBefore).toBe(size - kept);
      expect(hub.requests).toContain(`GET /test/stories-GGUF/resolve/main/${STORIES_FILE} bytes=${kept}-`);
      // The import's cleanup removes the download's folder once that job has ended.
      await until(() => !existsSync(folder), 10_000, "the download folder removed");
    },
  );
});
