import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SecretStore, type SecretCipher } from "./secrets.js";

// A reversible cipher standing in for the OS keychain (safeStorage is Electron's).
const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
const cipher: SecretCipher = {
  isEncryptionAvailable: () => true,
  encryptString: (s) => xor(Buffer.from(s, "utf8")),
  decryptString: (b) => xor(b).toString("utf8"),
};

describe("SecretStore", () => {
  it("keeps secrets encrypted on disk, across restarts, and forgets them on request", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-secrets-"));
    new SecretStore(dir, cipher).set("hubToken", "hf_secret");
    const onDisk = readFileSync(path.join(dir, "hubToken.secret"));
    expect(onDisk.toString("utf8")).not.toContain("hf_secret");
    const again = new SecretStore(dir, cipher);
    expect(again.get("hubToken")).toBe("hf_secret");
    again.set("hubToken", null);
    expect(new SecretStore(dir, cipher).get("hubToken")).toBeNull();
  });

  it("without a keychain holds secrets for this run only and writes nothing", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-secrets-"));
    const store = new SecretStore(dir);
    expect(store.canStore).toBe(false);
    store.set("serverApiKey", "sk-local");
    expect(store.get("serverApiKey")).toBe("sk-local");
    expect(readdirSync(dir)).toEqual([]);
    expect(new SecretStore(dir).get("serverApiKey")).toBeNull();
  });
});
