// A model file that cannot be imported, dropped in the UI of the real web host and engine host: the
// card says what is wrong from the error's code (wire/errors.ts), not from the engine's wording, and
// the library stays as it was. The engine's own words are shown beneath.
import { randomBytes } from "node:crypto";
import type { Page } from "@playwright/test";
import { tinyGguf, tinyModel } from "../native-models/test-support/tiny-models";
import { dropFile } from "./support/drop";
import { expect, saveScreenshot, test } from "./support/fixtures";

const views = (page: Page) => page.getByRole("navigation", { name: "Views" });
const card = (page: Page, name: string) => page.getByTestId("import-job").filter({ hasText: name });

test("random bytes and a cut-off download are refused with messages that say which is which", async ({
  appPage: page,
}) => {
  await views(page).getByRole("button", { name: "Models" }).click();
  const before = await page.getByTestId("model-card").count();

  const noise = randomBytes(64 * 1024);
  noise[0] = 0; // never the GGUF magic
  await dropFile(page, "random-bytes.gguf", noise);
  const refused = card(page, "random-bytes.gguf");
  await expect(refused.getByTestId("import-error")).toHaveText(
    "This file is not a model Exitlane can read (random-bytes.gguf).",
    { timeout: 30_000 },
  );
  await expect(refused.getByTestId("import-error-detail")).toContainText("not a recognised model format");

  // A real GGUF (written by the test writer), of which only the first half arrived.
  const whole = tinyGguf(tinyModel({ seed: 5 })).bytes;
  await dropFile(page, "interrupted-download.gguf", whole.subarray(0, Math.floor(whole.length / 2)));
  const cut = card(page, "interrupted-download.gguf");
  await expect(cut.getByTestId("import-error")).toHaveText(
    "The file is incomplete — was the download interrupted? (interrupted-download.gguf)",
    { timeout: 30_000 },
  );
  await expect(cut.getByTestId("import-error-detail")).toContainText("extends past the end of the file");
  await saveScreenshot(page, "import-errors");

  await expect(page.getByTestId("model-card")).toHaveCount(before);
});
