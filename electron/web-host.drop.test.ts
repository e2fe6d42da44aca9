// Drop path handling end to end in the browser build: files dropped on the page arrive at the web
// host as an upload and go through the real back end and engine host, exactly as `npm run web`
// wires them (electron/web-host-cli.ts). The upload's temporary folder goes away when the job ends.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadQuery, type EventOf, type ImportOptions, type ModelSummary } from "./contract.js";
import { haveShared, stories } from "../native-models/test-support/shared-fixtures.js";
import { startRealBackend, type RealBackend } from "./test-support/real-backend.js";
import { startWebHost, type WebHost } from "./web-host.js";

type Progress = EventOf<"import.progress">;

describe.skipIf(!haveShared("models/stories260K/gguf/stories260K-f32.gguf"))(
  "dropping model files on the web page",
  () => {
    let b: RealBackend;
    let host: WebHost;
    let uploadRoot: string;
    beforeAll(async () => {
      b = await startRealBackend({ select: false });
      uploadRoot = path.join(b.userDataDir, "uploads");
      mkdirSync(path.join(b.userDataDir, "renderer"));
      writeFileSync(path.join(b.userDataDir, "renderer/index.html"), "<!doctype html>");
      host = await startWebHost({
        dispatch: b.backend.dispatch,
        events: b.backend.events,
        rendererDir: path.join(b.userDataDir, "renderer"),
        uploadRoot,
        startImport: (request) => b.backend.services.imports.startImport(request),
      });
    }, 180_000);
    afterAll(async () => {
      await host?.close();
      await b?.close();
    });

    const drop = async (files: Array<[Buffer, string]>, options: ImportOptions = {}) => {
      const form = new FormData();
      for (const [data, name] of files) form.append("file", new Blob([new Uint8Array(data)]), name);
      const query = uploadQuery(options);
      const res = await fetch(`${host.origin}/upload?token=${host.token}${query ? `&${query}` : ""}`, {
        method: "POST",
        body: form,
        headers: { Origin: host.origin },
      });
      return {
        status: res.status,
        body: (await res.json()) as { jobId?: string; error?: { message: string } },
      };
    };
    /** The job's last progress event, also when it came before the upload's reply named the job. */
    const ended = (jobId: string): Promise<Progress> => {
      const terminal = (p: Progress) => p.jobId === jobId && p.state !== "running";
      const past = b.seen.find((e) => e.event === "import.progress" && terminal(e.payload as Progress));
      return past ? Promise.resolve(past.payload as Progress) : b.next("import.progress", terminal, 60_000);
    };

    it("a dropped GGUF reaches the engine from its upload; cancelled, it leaves nothing anywhere", async () => {
      const before = await b.call<ModelSummary[]>("models.list", {});
      const reply = await drop([[readFileSync(stories.ggufQ8), "stories260K-q8_0.gguf"]]);
      expect(reply.status).toBe(200);
      const jobId = reply.body.jobId!;
      // Being read from the uploaded copy: stop it at once (stories260K converts in well under a second).
      expect(readdirSync(uploadRoot)).toHaveLength(1);
      expect(await b.call("models.cancelImport", { jobId })).toEqual({ cancelled: true });
      expect(await ended(jobId)).toMatchObject({ state: "cancelled", source: "stories260K-q8_0.gguf" });
      await b.backend.services.imports.idle();
      expect(readdirSync(uploadRoot)).toEqual([]);
      expect(await b.call("models.list", {})).toEqual(before);
      expect(readdirSync(b.modelsDir)).toEqual([b.modelId]);
    });

    it("a dropped corrupt file fails in plain words; a dropped HF folder is imported as the folder", async () => {
      const corrupt = await drop([[readFileSync(stories.gguf).subarray(0, 4000), "broken.gguf"]]);
      const failed = await ended(corrupt.body.jobId!);
      expect(failed).toMatchObject({
        state: "failed",
        source: "broken.gguf",
        error: expect.stringMatching(
          /^metadata "tokenizer.ggml.tokens" claims 512 string items but only \d+ bytes remain in the file \(broken\.gguf\)$/,
        ),
      });
      // The upload's temporary folder is not the user's business: nowhere in what is shown.
      expect(JSON.stringify(failed)).not.toContain(uploadRoot);
      await b.backend.services.imports.idle();
      expect(readdirSync(uploadRoot)).toEqual([]);
      expect(readdirSync(b.modelsDir)).toEqual([b.modelId]);

      // Several files of one folder (webkitRelativePath names) import that folder; without its
      // weights it is refused for what it lacks.
      const folder = await drop([
        [readFileSync(path.join(stories.hf, "config.json")), "stories-hf/config.json"],
        [readFileSync(path.join(stories.hf, "tokenizer.json")), "stories-hf/tokenizer.json"],
      ]);
      const job = await ended(folder.body.jobId!);
      expect(job).toMatchObject({
        state: "failed",
        source: "stories-hf",
        error: expect.stringMatching(/safetensors/),
      });
      await b.backend.services.imports.idle();
      expect(existsSync(uploadRoot) ? readdirSync(uploadRoot) : []).toEqual([]);
    });

    it("takes the import options in the upload's query: a file already there imports again when asked", async () => {
      const bad = await fetch(`${host.origin}/upload?token=${host.token}&quant=f99`, {
        method: "POST",
        body: new FormData(),
        headers: { Origin: host.origin },
      });
      expect(bad.status).toBe(400);
      expect(existsSync(uploadRoot) ? readdirSync(uploadRoot) : []).toEqual([]);

      const file: [Buffer, string] = [readFileSync(stories.gguf), "stories260K-f32.gguf"];
      const refused = await drop([file]);
      expect(await ended(refused.body.jobId!)).toMatchObject({
        state: "failed",
        errorCode: "already_imported",
      });

      const reply = await drop([file], { again: true, quant: "int8" });
      expect(reply.status).toBe(200);
      const done = await ended(reply.body.jobId!);
      expect(done).toMatchObject({ state: "done" });
      const models = await b.call<ModelSummary[]>("models.list", {});
      expect(models).toHaveLength(2);
      expect(models.find((m) => m.id === done.modelId)).toMatchObject({ quant: "int8" });
      await b.backend.services.imports.idle();
    }, 120_000);

    it("restarts a dropped file's import at another quantization from the same upload, which lasts until the new job ends", async () => {
      const before = await b.call<ModelSummary[]>("models.list", {});
      const reply = await drop([[readFileSync(stories.ggufQ8), "stories260K-q8_0.gguf"]], { quant: "f16" });
      const first = reply.body.jobId!;
      // At once, while it is still being read (stories260K converts in well under a second).
      const { jobId } = await b.call<{ jobId: string }>("models.restartImport", {
        jobId: first,
        quant: "int4",
      });
      expect(await ended(first)).toMatchObject({ state: "cancelled" });
      const done = await ended(jobId);
      expect(done).toMatchObject({ state: "done", source: "stories260K-q8_0.gguf", plan: { quant: "int4" } });
      const model = (await b.call<ModelSummary[]>("models.list", {})).find((m) => m.id === done.modelId)!;
      expect(model.quant).toBe("int4");
      // The announced size is the package's (calibration adds its files afterwards).
      expect(done.plan!.sizes.int4).toBe(model.sizeBytes);
      await b.backend.services.imports.idle();
      // Only the new job is listed; the upload went when it ended; nothing of the f16 import is left.
      const jobs = await b.call<Progress[]>("models.jobs", {});
      expect(jobs.map((j) => j.jobId)).not.toContain(first);
      expect(existsSync(uploadRoot) ? readdirSync(uploadRoot) : []).toEqual([]);
      expect((await b.call<ModelSummary[]>("models.list", {})).map((m) => m.quant).sort()).toEqual(
        [...before.map((m) => m.quant), "int4"].sort(),
      );
      await b.call("models.delete", { id: model.id });
      await expect(b.call("models.restartImport", { jobId, quant: "int8" })).rejects.toMatchObject({
        code: "not_found",
      });
    }, 120_000);
  },
);
