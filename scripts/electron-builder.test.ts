// electron-builder.yml is valid and puts native code where it can load: packages the app with
// `--dir` against a stub Electron distribution (no download) and inspects the result.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { buildBundles, bundles, root } from "./build.js";
import { ADDON_FROM_ROOT, addonCandidates, loadNativeKernels } from "../native-models/kernels/index.js";

const run = promisify(execFile);
const linux = process.platform === "linux";
const work = mkdtempSync(path.join(os.tmpdir(), "exitlane-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The file names inside an asar archive (its header is a JSON index after two pickled lengths). */
function asarFiles(file: string): string[] {
  const buffer = readFileSync(file);
  const jsonLength = buffer.readUInt32LE(12);
  const header = JSON.parse(buffer.subarray(16, 16 + jsonLength).toString("utf8"));
  const names: string[] = [];
  const walk = (node: { files?: Record<string, unknown> }, prefix: string) => {
    for (const [name, child] of Object.entries(node.files ?? {})) {
      const entry = child as { files?: Record<string, unknown>; unpacked?: boolean };
      if (entry.files) walk(entry, `${prefix}${name}/`);
      else names.push(`${prefix}${name}${entry.unpacked ? " (unpacked)" : ""}`);
    }
  };
  walk(header, "");
  return names;
}

describe.skipIf(!linux)(
  "electron-builder packaging (Linux; other platforms skip: the stub Electron is a Linux layout)",
  () => {
    it(
      "packages --dir with app.asar, the onnxruntime and SQLite binaries and the native kernels unpacked, and finds the kernels from the packaged engine host",
      { timeout: 180_000 },
      async () => {
        if (!bundles.every((b) => existsSync(path.join(root, b.out)))) await buildBundles();
        const electronDist = path.join(work, "electron-dist");
        mkdirSync(path.join(electronDist, "resources"), { recursive: true });
        writeFileSync(path.join(electronDist, "electron"), "#!/bin/sh\necho stub electron\n");
        chmodSync(path.join(electronDist, "electron"), 0o755);
        writeFileSync(path.join(electronDist, "LICENSE"), "");
        writeFileSync(path.join(electronDist, "version"), "41.7.1");
        const output = path.join(work, "out");
        const arch = process.arch === "arm64" ? "--arm64" : "--x64";
        await run(
          process.execPath,
          [
            path.join(root, "node_modules/electron-builder/cli.js"),
            "--dir",
            "--publish",
            "never",
            "--linux",
            arch,
            "--projectDir",
            root,
            `-c.electronDist=${electronDist}`,
            `-c.directories.output=${output}`,
          ],
          { cwd: root, timeout: 170_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: "1" } },
        ).catch((error: Error & { stdout?: string; stderr?: string }) => {
          throw new Error(`electron-builder failed: ${error.message}\n${error.stdout}\n${error.stderr}`);
        });

        const app = path.join(output, process.arch === "arm64" ? "linux-arm64-unpacked" : "linux-unpacked");
        const resources = path.join(app, "resources");
        expect(existsSync(path.join(app, "exitlane"))).toBe(true);
        expect(existsSync(path.join(resources, "app.asar"))).toBe(true);

        const ortBin = path.join(
          resources,
          "app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux",
          process.arch,
        );
        expect(existsSync(path.join(ortBin, "onnxruntime_binding.node"))).toBe(true);
        expect(existsSync(path.join(ortBin, "libonnxruntime.so.1"))).toBe(true);
        expect(
          existsSync(
            path.join(
              resources,
              "app.asar.unpacked/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
            ),
          ),
        ).toBe(true);
        // Other platforms' binaries stay out.
        expect(
          existsSync(
            path.join(resources, "app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/win32"),
          ),
        ).toBe(false);

        const files = asarFiles(path.join(resources, "app.asar"));
        for (const bundle of [
          "dist/main/main.cjs",
          "dist/main/preload.cjs",
          "dist/engine/host.cjs",
          "package.json",
        ])
          expect(files).toContain(bundle);
        // Native files are listed in the archive only as pointers to their unpacked copies.
        expect(files.filter((f) => f.endsWith(".node"))).toEqual([]);
        expect(files.filter((f) => f.endsWith(".node (unpacked)")).length).toBeGreaterThanOrEqual(2);
        expect(files.some((f) => f.endsWith(".map"))).toBe(false);
        expect(files.some((f) => f.startsWith("node_modules/react"))).toBe(false);

        // The native kernels: unpacked beside the archive, and found from where the packaged
        // engine host runs (resources/app.asar/dist/engine/host.cjs), whatever the working folder.
        const built = loadNativeKernels({ env: {} });
        if (!built.available) {
          if (process.env.EXITLANE_REQUIRE_NATIVE === "1")
            throw new Error(`EXITLANE_REQUIRE_NATIVE=1 but ${built.detail}`);
          console.warn(
            `[skip] native kernels not built here (${built.detail}): their packaged copy is not checked`,
          );
          return;
        }
        const unpacked = path.join(resources, "app.asar.unpacked", ADDON_FROM_ROOT);
        expect(files).toContain(`${ADDON_FROM_ROOT.split(path.sep).join("/")} (unpacked)`);
        const found = addonCandidates(path.join(resources, "app.asar", "dist", "engine"), os.homedir()).find(
          existsSync,
        );
        expect(found).toBe(unpacked);
        const packaged = loadNativeKernels({ env: {}, addonPath: found });
        expect(packaged.available, packaged.detail).toBe(true);
        if (packaged.available) expect(packaged.kernels).toEqual(built.kernels);
      },
    );
  },
);
