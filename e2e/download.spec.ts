// Downloading a model from Hugging Face, in Chromium against the real web host, back end and
// engine host: a local stand-in for the hub (electron/test-support/hub-server.ts, the hub's real
// API shapes, throttled so progress is visible) serves stories260K. The Models view shows the
// catalog; a pasted repo id lists the test hub's file; Download shows a progress bar with speed
// and time left; when done the model is used for a chat that answers. A repo that does not exist,
// one the engine cannot run and a gated one are refused in plain words (the gated one offering
// the token field).
import { existsSync } from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";
import { startHubServer, type HubServer } from "../electron/test-support/hub-server";
import { test as base, expect, saveScreenshot } from "./support/fixtures";
import { repoRoot } from "./support/web-host-process";

const sharedRoot = process.env.EXITLANE_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
const storiesGguf = path.join(sharedRoot, "models/stories260K/gguf/stories260K-f32.gguf");
const haveStories = existsSync(storiesGguf);
if (!haveStories && process.env.CI) throw new Error(`Required test fixture missing under CI: ${storiesGguf}`);

const REPO = "exitlane-test/stories260K-GGUF";
const FILE = "stories260K-f32.gguf";
/** A repo whose metadata names an architecture the engine does not run. */
const MAMBA = "exitlane-test/mamba-GGUF";
/** The same file behind a gate: the hub lists it but refuses the bytes (403). */
const GATED = "exitlane-test/gated-GGUF";

/** The web host of this file talks to a test hub that starts first (worker scope, like the host). */
const test = base.extend<object, { hub: HubServer }>({
  hub: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern
    async ({}, provide) => {
      const hub = await startHubServer(
        {
          [REPO]: { files: [{ path: FILE, source: storiesGguf }], architecture: "llama", license: "mit" },
          [MAMBA]: { files: [{ path: FILE, source: storiesGguf }], architecture: "mamba" },
          [GATED]: { files: [{ path: FILE, source: storiesGguf }], architecture: "llama", gated: true },
        },
        // ~1.2 MB at 400 KB/s: about 3 s, long enough to see the bar move.
        { bytesPerSecond: 400_000 },
      );
      await provide(hub);
      await hub.close();
    },
    { scope: "worker" },
  ],
  hostEnv: [async ({ hub }, provide) => provide({ EXITLANE_HF_ENDPOINT: hub.url }), { scope: "worker" }],
});

const views = (page: Page) => page.getByRole("navigation", { name: "Views" });

test.skip(!haveStories, `fixture missing: ${storiesGguf}`);

test("a model from a pasted repo id downloads with visible progress and then chats", async ({
  appPage: page,
  hub,
}) => {
  test.setTimeout(120_000);
  await views(page).getByRole("button", { name: "Models" }).click();

  // A new user sees the catalog, each entry naming its exact file.
  const catalog = page.getByRole("list", { name: "Catalog" });
  await expect(catalog.getByTestId("catalog-entry").first()).toBeVisible();
  expect(await catalog.getByTestId("catalog-entry").count()).toBeGreaterThan(0);
  await expect(
    catalog
      .getByTestId("catalog-entry")
      .first()
      .getByRole("button", { name: /^Download / }),
  ).toBeVisible();

  // Paste the repo id: the test hub's file is listed with its size and architecture.
  await page.getByRole("textbox", { name: "Hugging Face repo id or URL" }).fill(REPO);
  await page.getByRole("button", { name: "List files" }).click();
  const files = page.getByTestId("repo-files");
  await expect(files).toContainText(`${REPO} · architecture llama`);
  await expect(files.getByRole("radio", { name: new RegExp(FILE.replace(".", "\\.")) })).toBeChecked();
  await expect(page.getByTestId("repo-unsupported")).toHaveCount(0);

  await files.getByRole("button", { name: "Download" }).click();
  const card = page.getByTestId("download-job");
  await expect(card).toHaveCount(1);
  const bar = card.getByRole("progressbar");
  await expect(bar).toBeVisible();
  // While it downloads: a speed in KB/s or MB/s, a time left, and a bar that is neither empty nor full.
  await expect(card.getByTestId("download-speed")).toHaveText(/^\d+(\.\d)? (KB|MB)\/s$/, { timeout: 10_000 });
  await expect(card.getByTestId("download-eta")).toHaveText(/^(\d+ min )?\d+ s left$|^\d+ min left$/);
  await expect(bar).toHaveAttribute("aria-valuenow", /^([1-9]|[1-9]\d)$/);
  await expect(card).toContainText(/of 1\.\d\d MB/);
  await saveScreenshot(page, "download-progress");

  await expect(card).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(card.getByTestId("download-state")).toHaveText("Done");
  // Its import was shown on the download card, not as a second card (the calibration the app then
  // starts on its own is a job of its own and may show).
  await expect(page.locator('[data-testid="import-job"]:not([data-stage="calibrate"])')).toHaveCount(0);
  expect(hub.bytesSent()).toBeGreaterThan(1_000_000);
  const model = page.getByTestId("model-card");
  await expect(model).toHaveCount(1);
  // stories260K has no chat template: a base model, labelled as such.
  await expect(model.getByTestId("model-mode")).toHaveText(
    "Text completion — continues the text you write (no chat template)",
  );

  await card.getByRole("button", { name: `Use ${FILE}` }).click();
  await expect(page.getByRole("textbox", { name: "Message" })).toHaveAttribute(
    "placeholder",
    "Write the beginning of a text; the model continues it",
  );
  await page.getByRole("textbox", { name: "Message" }).fill("Once upon a time");
  await page.keyboard.press("Enter");
  const answer = page.locator('article[data-role="assistant"]').last();
  await expect(answer).toHaveAttribute("data-streaming", "false", { timeout: 60_000 });
  await expect(answer).not.toHaveText(/^\s*$/);
  await saveScreenshot(page, "download-chat");
});

test("a missing repo, an unsupported architecture and a gated model are refused in plain words", async ({
  appPage: page,
}) => {
  await views(page).getByRole("button", { name: "Models" }).click();
  const repoField = page.getByRole("textbox", { name: "Hugging Face repo id or URL" });

  await repoField.fill("exitlane-test/no-such-model");
  await page.getByRole("button", { name: "List files" }).click();
  await expect(page.getByTestId("repo-error")).toHaveText(
    "Hugging Face has no such repository or file (exitlane-test/no-such-model). Check the spelling.",
  );
  await expect(page.getByTestId("repo-files")).toHaveCount(0);

  await repoField.fill(MAMBA);
  await page.getByRole("button", { name: "List files" }).click();
  await expect(page.getByTestId("repo-unsupported")).toContainText("cannot run mamba models");
  await expect(page.getByTestId("repo-files").getByRole("button", { name: "Download" })).toBeDisabled();

  await repoField.fill(`https://huggingface.co/${GATED}`);
  await page.getByRole("button", { name: "List files" }).click();
  await expect(page.getByTestId("repo-error")).toHaveCount(0);
  const files = page.getByTestId("repo-files");
  await files.getByRole("button", { name: "Download" }).click();
  const card = page.getByTestId("download-job").filter({ hasText: GATED });
  await expect(card).toHaveAttribute("data-state", "failed", { timeout: 30_000 });
  await expect(card.getByTestId("download-error")).toHaveText(
    new RegExp(`^${GATED} is a gated model: its authors ask you to accept their terms`),
  );
  // The token field is offered; in the web host there is no keychain, so it is kept for this session.
  const token = page.getByLabel("Hugging Face access token");
  await expect(token).toBeVisible();
  await expect(token).toHaveAttribute("type", "password");
  await expect(page.getByTestId("token-status")).toContainText("kept only for this session");
  await saveScreenshot(page, "download-gated");
});
