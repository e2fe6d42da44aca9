// Choosing the quantization on the import card, in Chromium against the real web host and engine
// host: the card says what the chosen quantization's package will weigh and what the others
// would, and switching while it converts starts it again from the same upload at that
// quantization; the model that arrives is the one asked for, and as big as the card said.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, saveScreenshot, test } from "./support/fixtures";
import { repoRoot } from "./support/web-host-process";

const sharedRoot = process.env.EXITLANE_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
const tool = path.join(sharedRoot, "tools/make-synthetic-gguf.mjs");
const haveTool = existsSync(tool);
if (!haveTool && process.env.CI) throw new Error(`Required test tool missing under CI: ${tool}`);

// onnxruntime's layers only, as in models-ui.spec.ts: the sizes are then those of packages
// without the native files.
test.use({ hostEnv: { EXITLANE_NATIVE: "off" } });

test.describe("quantization on the import card", () => {
  test.skip(!haveTool, `tool not found: ${tool} (set EXITLANE_SHARED_DIR)`);
  // The real models convert in well under a second, before a click could land: an 87M-parameter
  // synthetic Llama (93 MB, made in about 2 s) converts for a few seconds.
  const dir = haveTool ? mkdtempSync(path.join(os.tmpdir(), "exitlane-e2e-quant-")) : "";
  const file = path.join(dir, "synthetic-small.gguf");
  test.beforeAll(() => {
    execFileSync(process.execPath, [
      tool,
      "--preset",
      "small",
      "--layers",
      "6",
      "--type",
      "q8_0",
      "--out",
      file,
    ]);
  });
  test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("shows each choice's size and switches a running import to int4", async ({ appPage: page }) => {
    test.setTimeout(240_000);
    await page.getByRole("navigation", { name: "Views" }).getByRole("button", { name: "Models" }).click();
    await page.getByRole("combobox", { name: "Quantization for imports" }).selectOption("f16");
    await page.getByTestId("import-file-input").setInputFiles(file);

    const card = page.getByTestId("import-job").filter({ hasText: "synthetic-small.gguf" });
    await expect(card.getByTestId("import-size")).toHaveText(/^f16 · [\d.]+ MB on disk$/, {
      timeout: 60_000,
    });
    const toInt4 = card.getByRole("button", { name: /^Import as int4 instead — [\d.]+ MB$/ });
    const announced = ((await toInt4.textContent()) ?? "").replace(/^.* — /, "");
    await saveScreenshot(page, "import-quant-sizes");
    await toInt4.click();

    // One card for the file, now at int4; the model it makes is int4 and as big as announced.
    await expect(card.getByTestId("import-size")).toHaveText(`int4 · ${announced} on disk`, {
      timeout: 60_000,
    });
    const model = page.getByTestId("model-card");
    await expect(model).toBeVisible({ timeout: 120_000 });
    await expect(model).toHaveCount(1);
    await expect(model.locator(".spec", { hasText: "Quantization" }).locator("dd")).toHaveText("int4");
    await expect(model.locator(".spec", { hasText: "Size on disk" }).locator("dd")).toHaveText(announced);
    await expect(page.locator('[data-testid="import-job"]:not([data-stage="calibrate"])')).toHaveCount(1);
    // Its calibration would take minutes: stop it.
    await page
      .locator('[data-testid="import-job"][data-stage="calibrate"]')
      .getByRole("button", { name: /^Cancel/ })
      .click();
  });
});
