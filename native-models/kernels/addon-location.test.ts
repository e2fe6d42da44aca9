import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADDON_FROM_ROOT, addonCandidates, unpackedPath } from "./addon-location.js";

const root = path.resolve("/opt/exitlane");

describe("where the native kernels are looked for", () => {
  it("from the sources: beside the loader", () => {
    const found = addonCandidates(path.join(root, "native-models", "kernels"), "/somewhere");
    expect(found[0]).toBe(path.join(root, ADDON_FROM_ROOT));
  });

  it("from a bundle in dist/: below the root two folders up, whatever the working folder", () => {
    expect(addonCandidates(path.join(root, "dist", "engine"), "/somewhere")).toContain(
      path.join(root, ADDON_FROM_ROOT),
    );
  });

  it("in a packaged app: the copy electron-builder unpacked beside app.asar", () => {
    const resources = path.join(root, "resources");
    const found = addonCandidates(path.join(resources, "app.asar", "dist", "engine"), "/somewhere");
    expect(found).toContain(path.join(resources, "app.asar.unpacked", ADDON_FROM_ROOT));
    expect(found.some((p) => p.split(path.sep).includes("app.asar"))).toBe(false);
  });

  it("maps only the app.asar folder itself", () => {
    const other = path.join(root, "my.app.asar.notes", "x.node");
    expect(unpackedPath(other)).toBe(other);
  });
});
