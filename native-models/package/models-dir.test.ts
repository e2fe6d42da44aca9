import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { cleanPartialPackages, packageTempDir, PARTIAL_PREFIX } from "./models-dir.js";

describe("cleaning what interrupted imports left behind", () => {
  const tmp = makeTempDir("exitlane-models-dir-");
  afterAll(() => tmp.cleanup());

  it("removes temporary folders whose writer is gone, keeps those of a running import", async () => {
    const mine = await packageTempDir(tmp.dir, "mine"); // this process: counts as gone (it is the one cleaning)
    const orphan = path.join(tmp.dir, `${PARTIAL_PREFIX}orphan-x`);
    mkdirSync(orphan);
    writeFileSync(path.join(orphan, ".owner"), "999999999");
    const running = path.join(tmp.dir, `${PARTIAL_PREFIX}running-y`);
    mkdirSync(running);
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"]);
    writeFileSync(path.join(running, ".owner"), String(other.pid));
    try {
      const removed = await cleanPartialPackages(tmp.dir);
      expect(removed.sort()).toEqual([path.basename(mine), path.basename(orphan)].sort());
      expect(existsSync(running)).toBe(true);
    } finally {
      other.kill();
    }
  });

  it("removes files a killed writer staged inside a package, keeps those of a running one", async () => {
    const pkg = path.join(tmp.dir, "some-model-int8");
    mkdirSync(pkg);
    writeFileSync(path.join(pkg, "manifest.json"), "{}");
    writeFileSync(path.join(pkg, "predictors.json.999999999.tmp"), "half");
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"]);
    writeFileSync(path.join(pkg, `maps.bin.${other.pid}.tmp`), "being written");
    try {
      const removed = await cleanPartialPackages(tmp.dir);
      expect(removed).toContain(path.join("some-model-int8", "predictors.json.999999999.tmp"));
      expect(readdirSync(pkg).sort()).toEqual(["manifest.json", `maps.bin.${other.pid}.tmp`].sort());
    } finally {
      other.kill();
    }
  });
});
