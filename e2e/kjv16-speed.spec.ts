// What users run, measured: kjv16 imported through the page and chatted with in Chromium, against
// the real web host and the engine host bundle it forks. Settings names the kernel set, the model
// card says the native kernels run the model, and the answer speed the chat shows is compared with
// `bench`'s in-process decode speed on this machine at the same settings (greedy, full depth, the
// app's thread count), measured right after the chats (the report goes to
// e2e/artifacts/kjv16-speed.json). The test fails when the app did not run the native kernels
// (the model card and bench must name them); the speed ratio is reported, not asserted: a kjv16
// answer of 192 tokens lasts about 45 ms, and on a 2-core machine the ratio moved between 0.5 and
// 0.8 from run to run, while the same back end without a browser ran at bench's speed. The harness
// keeps out of the way while answers stream (no trace recording, a mutation observer instead of
// polling locators): that halved the browser's CPU time over the three answers (about 1.8 s to
// 0.9 s) but left the ratio near 0.5, so the browser's share of the CPU is not the whole story.
// What is: scheduling. Traced on 2 vCPUs, the engine host's thread spent ~40% of an answer's decode
// runnable but waiting, preempted by the web host's and the browser's threads as each token event
// woke them, while the other vCPU often sat idle. Events now travel one message per tick and
// tokens one batch per 16 ms (the ratio then moved to 0.59-0.84); with the engine pinned to one
// vCPU and everything else to the other it was 1.1. On machines with more cores than busy
// threads this contention goes away; on 2 vCPUs it is the open part of the gap.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadNativeKernels } from "../native-models/kernels/index";
import { freshChat, sendAndWait, views } from "./support/chat";
import { artifactsDir, expect, saveScreenshot, test } from "./support/fixtures";
import { processCpu, type CpuSample } from "./support/process-cpu";
import { repoRoot } from "./support/web-host-process";

const sharedRoot = process.env.EXITLANE_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
const gguf = path.join(sharedRoot, "models/kjv16/kjv16-q8_0.gguf");
const haveModel = existsSync(gguf);
if (!haveModel && process.env.CI) throw new Error(`Required test fixture missing under CI: ${gguf}`);
const kernels = loadNativeKernels({ env: {} });
if (!kernels.available && process.env.EXITLANE_REQUIRE_NATIVE === "1")
  throw new Error(`EXITLANE_REQUIRE_NATIVE=1 but ${kernels.detail}`);

/**
 * sendAndWait, waiting by DOM mutations instead of polling locators: Playwright's polling runs
 * its injected script in the page, on the cores the engine shares, while the answer streams.
 */
async function sendAndWaitQuietly(page: import("@playwright/test").Page, text: string) {
  const before = await page.locator('article[data-role="assistant"]').count();
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.keyboard.press("Enter");
  await page.evaluate(
    (n) =>
      new Promise<void>((resolve) => {
        const done = () => {
          const answers = document.querySelectorAll('article[data-role="assistant"]');
          return (
            answers.length > n && (answers[answers.length - 1] as HTMLElement).dataset.streaming === "false"
          );
        };
        if (done()) return resolve();
        const observer = new MutationObserver(() => {
          if (!done()) return;
          observer.disconnect();
          resolve();
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      }),
    before,
  );
  return page.locator('article[data-role="assistant"]').last();
}

const rateOf = async (answer: Awaited<ReturnType<typeof sendAndWait>>) =>
  Number(((await answer.getByTestId("stat-rate").textContent()) ?? "").replace(/[^\d.]/g, ""));
const delta = (a: CpuSample, b: CpuSample): CpuSample => ({
  engine: b.engine - a.engine,
  webHost: b.webHost - a.webHost,
  browser: b.browser - a.browser,
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A web host of its own: the files that share the default one expect a library without kjv16.
test.use({ hostEnv: { EXITLANE_E2E_HOST: "kjv16-speed" }, trace: "off" });

test.describe("kjv16 in the app", () => {
  test.skip(!haveModel, `fixture not found: ${gguf} (set EXITLANE_SHARED_DIR)`);
  test.skip(!kernels.available, `the native kernels are not built here (${kernels.detail})`);

  test("Settings shows the kernel set; a chat runs on it at bench's speed", async ({
    appPage: page,
    webHost,
  }) => {
    test.setTimeout(300_000);
    if (!kernels.available) return;
    const [best, ...others] = kernels.kernels;

    await views(page).getByRole("button", { name: "Settings" }).click();
    const about = page.getByRole("region", { name: "About this computer" });
    await expect(about.getByTestId("sys-native")).toHaveText(
      `${best}${others.length ? ` (this CPU also runs ${others.join(", ")})` : ""}`,
    );
    await saveScreenshot(page, "settings-native-kernels");
    // bench's protocol: plain greedy answers of a fixed length (kjv16's context is 256 tokens).
    const threads = Number(await page.getByLabel("CPU threads").inputValue());
    await page.getByLabel("Temperature").fill("0");
    await page.getByLabel("Repetition penalty").fill("1");
    await page.getByLabel("Max tokens").fill("192");
    await page.getByLabel("Max tokens").blur();
    await expect(page.getByText("Saved").first()).toBeVisible();
    await saveScreenshot(page, "settings-greedy");

    await views(page).getByRole("button", { name: "Models" }).click();
    await page.getByTestId("import-file-input").setInputFiles(gguf);
    const model = page.getByTestId("model-card");
    await expect(model).toBeVisible({ timeout: 120_000 });
    // Full depth, as bench measures it: its calibration (which would turn on lossless drafting at
    // the slider's first stop) is stopped.
    await page
      .locator('[data-testid="import-job"][data-stage="calibrate"]')
      .getByRole("button", { name: /^Cancel/ })
      .click();
    await expect(
      page.locator('[data-testid="import-job"][data-stage="calibrate"][data-state="running"]'),
    ).toHaveCount(0, { timeout: 60_000 });
    await model.getByRole("button", { name: /^Use / }).click();
    await expect(views(page).getByRole("button", { name: "Chat" })).toHaveAttribute("aria-current", "page", {
      timeout: 60_000,
    });

    const cpu = processCpu(webHost.pid);
    const cpuBefore = cpu?.();
    const shown: number[] = [];
    const tokens: number[] = [];
    for (const prompt of ["And God said", "In the beginning", "And the LORD spake unto Moses"]) {
      await freshChat(page);
      const answer = await sendAndWaitQuietly(page, prompt);
      shown.push(await rateOf(answer));
      tokens.push(Number(await answer.getByTestId("stat-tokens").textContent()));
    }
    const cpuAfter = cpu?.();
    await saveScreenshot(page, "kjv16-chat");
    await views(page).getByRole("button", { name: "Models" }).click();
    await expect(page.getByTestId("model-kernels")).toHaveText(`Runs on the native ${best} kernels.`);

    // bench on the same machine, the app idle: the built CLI, in-process engine, full depth.
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-e2e-bench-"));
    try {
      const out = execFileSync(
        process.execPath,
        [
          path.join(repoRoot, "dist/cli/cli.mjs"),
          ...[
            "bench",
            "--gguf",
            gguf,
            "--quant",
            "int8",
            "--skip-llama",
            "--runs",
            "3",
            "--threads",
            String(threads),
          ],
          ...["--prompt-tokens", "16", "--gen-tokens", String(median(tokens)), "--models-dir", dir, "--json"],
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 180_000 },
      );
      const bench = JSON.parse(out.trim().split("\n").pop()!) as {
        engine: { decodeTokensPerSecond: number; decodeRuns: number[]; kernels: string };
      };
      const ratio = median(shown) / bench.engine.decodeTokensPerSecond;
      const report = {
        model: "kjv16-q8_0 (int8)",
        cpu: os.cpus()[0]?.model,
        kernels: bench.engine.kernels,
        appShownTokensPerSecond: shown,
        appTokens: tokens,
        threads,
        settings: "greedy, full depth (uncalibrated), native kernels",
        // CPU time of each process over the three answers (Linux), from send to done.
        cpuMs: cpuBefore && cpuAfter ? delta(cpuBefore, cpuAfter) : null,
        benchDecodeTokensPerSecond: bench.engine.decodeTokensPerSecond,
        benchDecodeRuns: bench.engine.decodeRuns,
        ratio: Math.round(ratio * 100) / 100,
      };
      mkdirSync(artifactsDir, { recursive: true });
      writeFileSync(path.join(artifactsDir, "kjv16-speed.json"), JSON.stringify(report, null, 2));
      console.log(`[kjv16 speed] ${JSON.stringify(report)}`);
      expect(bench.engine.kernels).toBe(`native ${best}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
