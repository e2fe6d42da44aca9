// Drops one file on the app window the way a user's drag does: dragenter, then drop, with a real File.
import { expect, type Page } from "@playwright/test";

export async function dropFile(page: Page, name: string, bytes: Uint8Array) {
  const dataTransfer = await page.evaluateHandle(
    ({ name, b64 }) => {
      const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bin], name));
      return dt;
    },
    { name, b64: Buffer.from(bytes).toString("base64") },
  );
  await page.dispatchEvent("main", "dragenter", { dataTransfer });
  await expect(page.getByTestId("drop-overlay")).toBeVisible();
  await page.dispatchEvent("main", "drop", { dataTransfer });
  await expect(page.getByTestId("drop-overlay")).toHaveCount(0);
}
