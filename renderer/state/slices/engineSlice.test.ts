import { describe, expect, it } from "vitest";
import { setupStore as setup } from "../../test/storeSetup";

describe("engine slice", () => {
  it("rolls a refused setting back and says why", async () => {
    const { api, s } = await setup();
    api.handle("settings.set", () => {
      throw new Error('Execution provider "cuda" is not available here');
    });
    await s().updateSettings({ executionProvider: "cuda" });
    expect(s().settings?.executionProvider).toBe("cpu");
    expect(s().toasts.at(-1)?.text).toMatch(/cuda/);
  });
});
