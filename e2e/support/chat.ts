// Chat steps the journeys share: the last answer, a fresh chat, and a message sent and answered.
import { expect, type Page } from "@playwright/test";

export const views = (page: Page) => page.getByRole("navigation", { name: "Views" });

export async function lastAnswer(page: Page) {
  return page.locator('article[data-role="assistant"]').last();
}

/** How many chats the sidebar lists, once it has loaded them: a page just opened shows none yet. */
export async function conversationCount(page: Page) {
  await expect(page.getByRole("list", { name: "Conversations" })).toHaveAttribute("aria-busy", "false");
  return page.locator("li.conversation").count();
}

/** A model's context fills with one long answer: measure in a fresh chat. */
export async function freshChat(page: Page) {
  const before = await conversationCount(page);
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
