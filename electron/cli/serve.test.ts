// `serve` as a user runs it: the built CLI (dist/cli/cli.mjs, which starts the app's own engine
// host bundle), one JSON line when ready, a request through the official openai client, and a
// clean exit on SIGTERM.
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { expect, it } from "vitest";
import { storiesPackage } from "../test-support/stories-package.js";
import { buildBundles, isUpToDate } from "../../scripts/build.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

it("serves a model package, answers the openai client, and exits 0 on SIGTERM", async () => {
  const { modelsDir, modelId } = await storiesPackage();
  if (!isUpToDate()) await buildBundles();
  // `node dist/cli/cli.mjs serve ...` without npm's wrapper process in between (it would take the
  // signal and report it instead of the command's own exit status).
  const argv = ["dist/cli/cli.mjs", "serve", "--model", path.join(modelsDir, modelId), "--port", "0"];
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  try {
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      void exited.then((e) => reject(new Error(`serve exited early (${JSON.stringify(e)}): ${stderr}`)));
    });
    const ready = JSON.parse(first) as { url: string; apiKey: string; model: string };
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(ready.apiKey).toMatch(/^sk-exitlane-/);
    expect(ready.model).toBe(modelId);

    const client = new OpenAI({ baseURL: ready.url, apiKey: ready.apiKey, maxRetries: 0 });
    const r = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 8 });
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.choices[0].text.length).toBeGreaterThan(0);

    const stranger = new OpenAI({ baseURL: ready.url, apiKey: "sk-other", maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401 });

    const stopAt = performance.now();
    child.kill("SIGTERM");
    const exit = await exited;
    console.log(`[serve] SIGTERM -> exit 0: ${(performance.now() - stopAt).toFixed(0)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // stderr's last bytes may trail the exit.
    expect({ ...exit, stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: expect.stringMatching(/SIGTERM: stopping/),
    });
    await expect(fetch(`${ready.url}/models`)).rejects.toThrow(); // Nothing listens any more.
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
