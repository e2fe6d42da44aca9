// The loader's fallback: whatever goes wrong, loadNativeKernels() answers { available: false, detail }
// and never throws, so the engine runs on onnxruntime instead.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/temp-files.js";
import { loadNativeKernels, NATIVE_ABI_VERSION } from "./index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = makeTempDir("exitlane-native-loader-");
afterAll(() => tmp.cleanup());

describe("loadNativeKernels fallback", () => {
  it("is disabled by EXITLANE_NATIVE=off", () => {
    expect(loadNativeKernels({ env: { EXITLANE_NATIVE: "off" } })).toEqual({
      available: false,
      detail: "disabled by EXITLANE_NATIVE=off",
    });
  });

  it("still honours the former names (EXITLANE_SPARSE, EXITLANE_SPARSE_ADDON)", () => {
    expect(loadNativeKernels({ env: { EXITLANE_SPARSE: "off" } })).toEqual({
      available: false,
      detail: "disabled by EXITLANE_SPARSE=off",
    });
    const k = loadNativeKernels({ env: { EXITLANE_SPARSE_ADDON: path.join(tmp.dir, "old-name.node") } });
    expect(k.detail).toContain("old-name.node failed to load");
  });

  it("reports a missing addon file", () => {
    const k = loadNativeKernels({ env: {}, addonPath: path.join(tmp.dir, "nope", "exitlane_native.node") });
    expect(k.available).toBe(false);
    expect(k.detail).toMatch(/failed to load: Cannot find module/);
  });

  it("reports a file that is not a loadable addon", () => {
    const bad = tmp.write("garbage.node", "this is not an ELF/Mach-O/PE file");
    const k = loadNativeKernels({ env: { EXITLANE_NATIVE_ADDON: bad } });
    expect(k.available).toBe(false);
    expect(k.detail).toContain(`native kernels at ${bad} failed to load`);
  });

  it("reports a stale build with another ABI version", () => {
    const stale = tmp.write(
      "stale.cjs",
      `module.exports = { abiVersion: ${NATIVE_ABI_VERSION - 1}, kernels: "scalar", createFfn() {} };`,
    );
    const k = loadNativeKernels({ env: {}, addonPath: stale });
    expect(k).toEqual({
      available: false,
      detail: expect.stringContaining(
        `are stale (abi ${NATIVE_ABI_VERSION - 1}, need ${NATIVE_ABI_VERSION}); rebuild them`,
      ),
    });
  });

  it("loads the built addon when present (or explains why not)", () => {
    const k = loadNativeKernels({ env: {} });
    if (k.available) expect(k.kernels.at(-1)).toBe("scalar");
    else expect(k.detail).toMatch(/not built|failed to load/);
  });
});

describe("build-addon.mjs never fails an install", () => {
  // A copy of the script and sources in a scratch tree, so failing builds cannot touch the real addon.
  function scratchTree(withNodeModules: boolean): string {
    const root = path.join(tmp.dir, withNodeModules ? "with-gyp" : "without-gyp");
    const dir = path.join(root, "native-models", "kernels");
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(here, "build-addon.mjs"), path.join(dir, "build-addon.mjs"));
    cpSync(path.join(here, "addon", "binding.gyp"), path.join(dir, "addon", "binding.gyp"));
    cpSync(path.join(here, "addon", "src"), path.join(dir, "addon", "src"), { recursive: true });
    tmp.write(path.relative(tmp.dir, path.join(root, "package.json")), "{}");
    if (withNodeModules)
      symlinkSync(path.join(here, "..", "..", "node_modules"), path.join(root, "node_modules"));
    return path.join(dir, "build-addon.mjs");
  }
  const run = (script: string, env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [script], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      timeout: 120_000,
    });

  it("skips on EXITLANE_SKIP_NATIVE_BUILD=1", () => {
    const r = run(scratchTree(false), { EXITLANE_SKIP_NATIVE_BUILD: "1" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("exitlane native kernels: build skipped (EXITLANE_SKIP_NATIVE_BUILD=1)");
  });

  it("exits 0 with one line when node-gyp is missing", () => {
    const r = run(scratchTree(false), { EXITLANE_SKIP_NATIVE_BUILD: "" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^exitlane native kernels: not built \(node-gyp is not installed.*onnxruntime, slower\.\n$/,
    );
  });

  it("exits 0 with one line when the compiler is missing", () => {
    const r = run(scratchTree(true), {
      EXITLANE_SKIP_NATIVE_BUILD: "",
      CXX: "/nonexistent/c++",
      CC: "/nonexistent/cc",
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^exitlane native kernels: not built \(.*\/nonexistent\/c.*Log: .*build-addon\.log\n$/,
    );
  });
});
