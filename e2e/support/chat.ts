// Chat steps the journeys share: the last answer, a fresh chat, and a message sent and answered.
import { expect, type Page } from "@playwright/test";

export const views = (page: Page) => page.getByRole("navigation", { name: "Views" });

export async function lastAnswer(page: Page) {
  return page.locator('article[data-role="assistant"]').last();
}

/** A model's context fills with one long answer: measure in a fresh chat. */
export async function freshChat(page: Page) {
  const before = await page.locator("li.conversation").count();
  await page.getByRole("button", { name: "New chat", exact: true }).click();
  await expect(page.locator("li.conversation")).toHaveCount(before + 1);
  await expect(page.locator('article[data-role="assistant"]')).toHaveCount(0);
}

export async function sendAndWait(page: Page, text: string) {
  const before = await page.locator('article[data-role="assistant"]').count();
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.keyboard.press("Enter");
  await expect(page.locator('article[data-role="assistant"]')).toHaveCount(before + 1);
  await expect(await lastAnswer(page)).toHaveAttribute("data-streaming", "false", { timeout: 60_000 });
  return lastAnswer(page);
}
