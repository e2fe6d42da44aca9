// The window as a user sizes it, in Chromium against the real web host and engine: the first
// screen, the shortcuts panel, and a chat with its live charts at 1400 and at 760 px wide, where
// nothing may cover the message box or its Send button and no label may be cut off. Screenshots
// go to e2e/artifacts/.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "@playwright/test";
import { conversationCount } from "./support/chat";
import { dropFile } from "./support/drop";
import { expect, saveScreenshot, test } from "./support/fixtures";
import { repoRoot } from "./support/web-host-process";

const sharedRoot = process.env.EXITLANE_SHARED_DIR ?? path.resolve(repoRoot, "../shared");
const storiesGguf = path.join(sharedRoot, "models/stories260K/gguf/stories260K-f32.gguf");
const haveStories = existsSync(storiesGguf);
if (!haveStories && process.env.CI) throw new Error(`Required test fixture missing under CI: ${storiesGguf}`);

/** The element a click at the centre of `target` would reach is `target` (or inside it): nothing covers it. */
async function expectUncovered(target: Locator) {
  await expect(target).toBeVisible();
  const reached = await target.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
  });
  expect(reached, "covered by another element").toBe(true);
}

/** The text is shown whole: no ellipsis or clipping of the element's own text. */
async function expectWhole(target: Locator) {
  const { scroll, client } = await target.evaluate((el) => ({
    scroll: el.scrollWidth,
    client: el.clientWidth,
  }));
  expect(scroll, "text is cut off").toBeLessThanOrEqual(client + 1);
}

/** An input's placeholder fits inside it (measured in its own font). */
async function expectPlaceholderFits(input: Locator) {
  const { text, room } = await input.evaluate((el) => {
    const field = el as HTMLInputElement;
    const style = getComputedStyle(field);
    const ctx = document.createElement("canvas").getContext("2d")!;
    ctx.font = style.font;
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    return { text: ctx.measureText(field.placeholder).width, room: field.clientWidth - padding };
  });
  expect(text, "placeholder is cut off").toBeLessThanOrEqual(room);
}

async function sendAndWait(page: Page, text: string) {
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.keyboard.press("Enter");
  const answer = page.locator('article[data-role="assistant"]').last();
  await expect(answer).toBeVisible();
  await expect(answer).toHaveAttribute("data-streaming", "false", { timeout: 60_000 });
}

test.describe.serial("layout and keyboard", () => {
  test.skip(!haveStories, `fixture not found: ${storiesGguf} (set EXITLANE_SHARED_DIR)`);

  test("first screen and the shortcuts panel, with the browser build's own new-chat key", async ({
    appPage: page,
  }) => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await expect(page.getByRole("button", { name: /New chat/ })).toBeVisible();
    await saveScreenshot(page, "first-screen");

    await page.keyboard.press("Control+/");
    const panel = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await expect(panel).toBeVisible();
    await expect(panel).toContainText("Alt+N");
    await expect(panel).toContainText("Ctrl+K");
    await saveScreenshot(page, "shortcuts-panel");
    await page.keyboard.press("Escape");
    await expect(panel).toHaveCount(0);

    const before = await conversationCount(page);
    await page.keyboard.press("Alt+N");
    await expect(page.locator("li.conversation")).toHaveCount(before + 1);
  });

  test("a chat with live charts at 1400 px and at 760 px wide", async ({ appPage: page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: 1400, height: 900 });
    await dropFile(page, "stories260K-f32.gguf", readFileSync(storiesGguf));
    const model = page.getByTestId("model-card").first();
    await expect(model).toBeVisible({ timeout: 120_000 });
    await model.getByRole("button", { name: /^Use / }).click();
    await expect(page.getByRole("textbox", { name: "Message" })).toBeVisible({ timeout: 60_000 });
    await page.getByRole("button", { name: "New chat", exact: true }).click();
    await sendAndWait(page, "Once upon a time");
    await expect(page.getByTestId("exit-chart")).toBeVisible();
    await saveScreenshot(page, "chat-1400");

    await page.setViewportSize({ width: 760, height: 900 });
    await expectUncovered(page.getByRole("button", { name: "Send", exact: true }));
    await expectUncovered(page.getByRole("textbox", { name: "Message" }));
    await expectWhole(page.getByTestId("knob-reading"));
    await expectPlaceholderFits(page.getByRole("searchbox", { name: "Search conversations" }));
    await saveScreenshot(page, "chat-760");

    // The charts open over the chat, as a panel that Esc closes.
    await page.getByRole("button", { name: "Live exit-layer charts" }).click();
    await expect(page.getByTestId("exit-chart")).toBeVisible();
    await saveScreenshot(page, "chat-760-charts");
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("exit-chart")).toHaveCount(0);
    await expectUncovered(page.getByRole("button", { name: "Send", exact: true }));
  });
});
