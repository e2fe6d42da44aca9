import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appProtocolHandler } from "./app-protocol.js";
import { contentSecurityPolicy } from "./csp.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-proto-"));
mkdirSync(path.join(dir, "renderer/assets"), { recursive: true });
writeFileSync(path.join(dir, "renderer/index.html"), "<!doctype html>");
writeFileSync(path.join(dir, "renderer/assets/app.js"), "export {}");
writeFileSync(path.join(dir, "secret.txt"), "secret");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const handle = appProtocolHandler(path.join(dir, "renderer"));

describe("the exitlane-app: protocol", () => {
  it("serves the renderer's files with their type and the CSP", async () => {
    const page = await handle({ url: "exitlane-app://app/index.html" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("content-security-policy")).toBe(contentSecurityPolicy());
    const script = await handle({ url: "exitlane-app://app/assets/app.js" });
    expect(script.headers.get("content-type")).toMatch(/text\/javascript/);
    expect(await script.text()).toBe("export {}");
  });

  it("never serves a file outside the renderer folder", async () => {
    for (const url of [
      "exitlane-app://app/../secret.txt",
      "exitlane-app://app/%2e%2e/secret.txt",
      "exitlane-app://app/..%2fsecret.txt",
    ]) {
      const res = await handle({ url });
      expect(await res.text()).not.toBe("secret");
    }
    expect((await handle({ url: "exitlane-app://other/index.html" })).status).toBe(404);
    expect((await handle({ url: "exitlane-app://app/missing.js" })).status).toBe(404);
  });
});
