import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SettingsStore, defaultSettings } from "./settings.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "exitlane-settings-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("SettingsStore", () => {
  it("starts from valid defaults with the models folder inside user data", () => {
    const settings = new SettingsStore(dir).get();
    expect(settings).toEqual(defaultSettings(dir));
    expect(settings.modelsDir).toBe(path.join(dir, "models"));
    expect(settings.threads).toBeGreaterThanOrEqual(1);
  });

  it("leaves the default answer length automatic and keeps a length the user set", () => {
    expect(new SettingsStore(dir).get().defaultSampling.maxTokens).toBeNull();
    const store = new SettingsStore(dir);
    store.set({ defaultSampling: { ...store.get().defaultSampling, maxTokens: 700 } });
    expect(new SettingsStore(dir).get().defaultSampling.maxTokens).toBe(700);
  });

  it("saves a valid change and reads it back", () => {
    new SettingsStore(dir).set({ theme: "dark", knob: 0.8 });
    expect(new SettingsStore(dir).get()).toMatchObject({ theme: "dark", knob: 0.8 });
    expect(JSON.parse(readFileSync(path.join(dir, "settings.json"), "utf8")).theme).toBe("dark");
  });

  it("refuses an invalid change and keeps the previous settings", () => {
    const store = new SettingsStore(dir);
    expect(() => store.set({ threads: 0 })).toThrow(/Invalid settings/);
    expect(store.get().threads).toBe(defaultSettings(dir).threads);
  });

  it("keeps the valid fields of a damaged file and defaults the rest", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    writeFileSync(
      path.join(dir, "settings.json"),
      JSON.stringify({ theme: "light", threads: -3, unknown: 1 }),
    );
    expect(new SettingsStore(dir).get()).toMatchObject({
      theme: "light",
      threads: defaultSettings(dir).threads,
    });
    writeFileSync(path.join(dir, "settings.json"), "{ not json");
    expect(new SettingsStore(dir).get()).toEqual(defaultSettings(dir));
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});
