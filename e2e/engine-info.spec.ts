// Acceptance: engine.info from the real engine host process, shown in the real UI in Chromium.
import { createRequire } from "node:module";
import os from "node:os";
import { loadNativeKernels } from "../native-models/kernels/index";
import { expect, saveScreenshot, test } from "./support/fixtures";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node") as { env: { versions: { node: string } } };

test("Settings → About this computer shows the engine host's onnxruntime version, core count and native kernels", async ({
  appPage,
  webHost,
}) => {
  await appPage.getByRole("navigation", { name: "Views" }).getByRole("button", { name: "Settings" }).click();
  const panel = appPage.getByRole("region", { name: "About this computer" });
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId("sys-ort-version")).toHaveText(ort.env.versions.node);
  await expect(panel.getByTestId("sys-cores")).toHaveText(String(os.availableParallelism()));
  await expect(panel.getByTestId("sys-providers")).toContainText("cpu");
  // The native kernels the engine host loaded, as this checkout built them (CI requires them).
  const native = loadNativeKernels({ env: {} });
  if (process.env.EXITLANE_REQUIRE_NATIVE === "1") expect(native.available, native.detail).toBe(true);
  await expect(panel.getByTestId("sys-native")).toHaveText(
    native.available
      ? new RegExp(`^${native.kernels[0]}( \\(this CPU also runs ${native.kernels.slice(1).join(", ")}\\))?$`)
      : /^Not available: models run on onnxruntime, and answers are several times slower/,
  );
  // Answered by the engine host process, not by the web host itself.
  const pidText = await panel.getByTestId("sys-pid").textContent();
  const hostPid = Number(pidText?.replace(/\D/g, ""));
  expect(hostPid).toBeGreaterThan(0);
  expect(hostPid).not.toBe(webHost.pid);
  await panel.scrollIntoViewIfNeeded();
  await saveScreenshot(appPage, "settings-about-this-computer");
});
