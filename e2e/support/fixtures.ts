// Playwright fixtures for every e2e spec:
//   webHost   the real web host + engine host for this test file (worker scope), fresh user data
//   appPage   a page with the app loaded through the token URL; fails the test on any CSP
//             violation or uncaught page error, so UI journeys also prove the CSP holds
// Use: import { test, expect } from "./support/fixtures";
import { test as base, expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { repoRoot, startWebHostProcess, type RunningWebHost } from "./web-host-process";

export const artifactsDir = path.join(repoRoot, "e2e/artifacts");

/** Saves a PNG of what the window shows under e2e/artifacts/ (kept by CI as evidence). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export const test = base.extend<
  { appPage: Page; pageProblems: string[] },
  { webHost: RunningWebHost; hostEnv: Record<string, string> }
>({
  /** Extra environment for the web host (and its engine host), per worker: `test.use({ hostEnv })`. */
  hostEnv: [{}, { option: true, scope: "worker" }],
  webHost: [
    async ({ hostEnv }, provide) => {
      const host = await startWebHostProcess(hostEnv);
      await provide(host);
      await host.stop();
    },
    { scope: "worker", timeout: 60_000 },
  ],
  pageProblems: async ({ page }, provide) => {
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
    await provide(problems);
  },
  appPage: async ({ page, webHost, pageProblems }, provide) => {
    await page.goto(webHost.url);
    await provide(page);
    expect(pageProblems, "the app page must load without CSP violations or uncaught errors").toEqual([]);
  },
});

export { expect };
