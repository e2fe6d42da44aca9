// Hugging Face downloads through the whole back end with the REAL engine host, against the local
// hub stand-in serving real models: download, verify, import and chat; resume after a dropped
// connection; a damaged file; cancel at several points; and each refusal with its own code.
import { statSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { haveShared, kjv16 } from "../../native-models/test-support/shared-fixtures.js";
import {
  answerTokens,
  download,
  downloadsLeft,
  expectNothingLeft,
  KJV_FILE,
  progressOf,
  STORIES_FILE,
  testRepos,
} from "../test-support/download-checks.js";
import { startHubServer, type HubServer } from "../test-support/hub-server.js";
import { realBackends, type RealBackendOptions } from "../test-support/real-backend.js";
import type { DownloadJob } from "../contract.js";

const start = realBackends();
let hub: HubServer;
beforeEach(async () => {
  hub = await startHubServer(testRepos());
});
afterEach(() => hub.close());

const withHub = (backend: RealBackendOptions["backend"] = {}): RealBackendOptions => ({
  stories: false,
  select: false,
  backend: { hubEndpoint: hub.url, ...backend },
});

describe.skipIf(!haveShared("models/kjv16/kjv16-q8_0.gguf") || !haveShared("models/stories260K/gguf"))(
  "downloads on the real back end",
  () => {
    it(
      "downloads, verifies and imports a GGUF, which then answers; nothing stays in downloads",
      { timeout: 180_000 },
      async () => {
        const b = await start(withHub());
        const job = await download(b, "test/stories-GGUF", STORIES_FILE);
        expect(job).toMatchObject({ state: "done", repo: "test/stories-GGUF", file: STORIES_FILE });
        const states = [...new Set(progressOf(b, job.jobId).map((p) => p.state))];
        expect(states).toEqual(["downloading", "verifying", "importing", "done"]);
        const last = progressOf(b, job.jobId)
          .filter((p) => p.state === "downloading")
          .pop()!;
        expect(last.receivedBytes).toBe(last.totalBytes);
        expect(job.importJobId).toBeTruthy();
        expect(await answerTokens(b, job.modelId!)).toBeGreaterThan(0);
        await b.backend.services.imports.idle();
        expect(downloadsLeft(b)).toEqual([]);
        expect(await b.call<DownloadJob[]>("downloads.list", {})).toMatchObject([
          { jobId: job.jobId, state: "done" },
        ]);
      },
    );

    it(
      "resumes with Range after the connection drops at 40%, and the model answers",
      { timeout: 240_000 },
      async () => {
        hub.faults.dropOnceAt = 0.4;
        const b = await start(withHub());
        const job = await download(b, "test/kjv16-GGUF", KJV_FILE, 180_000);
        expect(job.state, job.error).toBe("done");
        const size = statSync(kjv16.ggufQ8).size;
        expect(hub.requests.some((r) => /^GET \/storage\/\w+ bytes=\d+-$/.test(r))).toBe(true);
        expect(hub.bytesSent()).toBeLessThanOrEqual(1.1 * size);
        console.log(
          `resumed: ${hub.bytesSent()} bytes sent for a ${size}-byte file; ${hub.requests.filter((r) => r.includes("bytes=")).join(", ")}`,
        );
        expect(await answerTokens(b, job.modelId!)).toBeGreaterThan(0);
      },
    );

    it("fails a damaged file with hash_mismatch and keeps nothing of it", { timeout: 120_000 }, async () => {
      hub.faults.corruptByteAt = 1000;
      const b = await start(withHub());
      const job = await download(b, "test/stories-GGUF", STORIES_FILE);
      expect(job).toMatchObject({
        state: "failed",
        errorCode: "download",
        errorDetail: { downloadCode: "hash_mismatch" },
        error: expect.stringMatching(
          /does not match the checksum Hugging Face published.*deleted; download it again/,
        ),
      });
      await expectNothingLeft(b);
    });

    it(
      "cancels while downloading and while importing, leaving nothing behind",
      { timeout: 180_000 },
      async () => {
        hub.faults.bytesPerSecond = 200_000;
        const b = await start(withHub());
        const outcomes: string[] = [];
        for (const when of [
          (p: DownloadJob) => p.receivedBytes > 0,
          (p: DownloadJob) => p.receivedBytes > p.totalBytes / 2,
        ]) {
          const reached = b.next(
            "download.progress",
            (p) => p.state === "downloading" && p.totalBytes > 0 && when(p),
          );
          const { jobId } = await b.call<{ jobId: string }>("downloads.start", {
            repo: "test/stories-GGUF",
            file: STORIES_FILE,
          });
          const at = await reached;
          expect(await b.call("downloads.cancel", { jobId })).toEqual({ cancelled: true });
          expect(
            (await b.call<DownloadJob[]>("downloads.list", {})).find((j) => j.jobId === jobId)?.state,
          ).toBe("cancelled");
          await expectNothingLeft(b);
          outcomes.push(`downloading ${at.receivedBytes}/${at.totalBytes}`);
        }
        hub.faults.bytesPerSecond = undefined;
        const importing = b.next("download.progress", (p) => p.state === "importing");
        const { jobId } = await b.call<{ jobId: string }>("downloads.start", {
          repo: "test/stories-GGUF",
          file: STORIES_FILE,
        });
        await importing;
        const reply = await b.call<{ cancelled: boolean }>("downloads.cancel", { jobId });
        const job = (await b.call<DownloadJob[]>("downloads.list", {})).find((j) => j.jobId === jobId)!;
        if (reply.cancelled) {
          expect(job.state).toBe("cancelled");
          await expectNothingLeft(b);
          outcomes.push("importing");
        } else {
          expect(job.state).toBe("done"); // The import finished before the cancel reached it.
          outcomes.push("importing: finished first");
        }
        console.log(`cancelled at: ${outcomes.join("; ")}`);
        expect(await b.call("downloads.cancel", { jobId })).toEqual(reply);
      },
    );

    it("gives each refusal its own code and a message saying what to do", { timeout: 180_000 }, async () => {
      let free = 10 ** 12;
      const cipher = {
        isEncryptionAvailable: () => true,
        encryptString: (plain: string) => Buffer.from(plain).reverse(),
        decryptString: (data: Buffer) => Buffer.from(data).reverse().toString(),
      };
      const b = await start(withHub({ secretCipher: cipher, freeBytes: async () => free }));
      const fails = async (
        repo: string,
        file: string,
        downloadCode: string,
        message: RegExp,
        httpStatus?: number,
      ) => {
        const job = await download(b, repo, file);
        expect(job).toMatchObject({ state: "failed", errorCode: "download", errorDetail: { downloadCode } });
        if (httpStatus) expect(job.errorDetail?.httpStatus).toBe(httpStatus);
        expect(job.error).toMatch(message);
        await expectNothingLeft(b);
      };
      await fails("test/no-such-GGUF", STORIES_FILE, "not_found", /does not exist on Hugging Face/, 404);
      await fails("test/stories-GGUF", "other.gguf", "not_found", /has no file other\.gguf/, 404);
      await fails(
        "test/gated-GGUF",
        STORIES_FILE,
        "gated",
        /accept the model's terms on its Hugging Face page/,
        403,
      );
      await fails(
        "test/mamba-GGUF",
        "mamba-130m-Q4_K_M.gguf",
        "unsupported",
        /mamba architecture is not supported/,
      );
      free = 1000;
      await fails(
        "test/stories-GGUF",
        STORIES_FILE,
        "disk_full",
        /Not enough free disk space.*Free some space/,
      );
      free = 10 ** 12;

      hub.faults.dropOnceAt = 0.5;
      hub.faults.ignoreRange = true;
      await fails(
        "test/stories-GGUF",
        STORIES_FILE,
        "range_ignored",
        /cannot resume.*ignored the Range request.*start the download again/,
      );
      hub.faults.dropOnceAt = undefined;
      hub.faults.ignoreRange = undefined;

      hub.faults.token = "hf_test_token";
      await expect(b.call("hub.listRepo", { repo: "test/stories-GGUF" })).rejects.toMatchObject({
        code: "download",
        detail: { downloadCode: "unauthorized", httpStatus: 401 },
      });
      await fails(
        "test/stories-GGUF",
        STORIES_FILE,
        "unauthorized",
        /needs a Hugging Face access token/,
        401,
      );
      expect(await b.call("hub.setToken", { token: "hf_test_token" })).toEqual({
        stored: true,
        canStore: true,
        endpoint: hub.url,
      });
      expect(await b.call("hub.tokenStatus", {})).toMatchObject({ stored: true });
      const job = await download(b, "test/stories-GGUF", STORIES_FILE);
      expect(job.state, job.error).toBe("done");
      expect(await b.call("hub.setToken", { token: null })).toMatchObject({ stored: false });
    });
  },
);
