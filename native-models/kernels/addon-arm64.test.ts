// The addon is built from source on every machine it runs on, Apple Silicon and arm64 Linux
// included, where its NEON kernels (and the scalar ones the packed matrices use there) are the
// engine. Every source binding.gyp builds is compiled here for aarch64 with Debian's cross
// compiler: an x86 header reached outside its guard once broke the arm64 build, which no x86
// test could notice. Objects only (no link, no run); under CI the compiler must be there.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const compiler = "aarch64-linux-gnu-g++";
const addonDir = path.join(import.meta.dirname, "addon");
const require = createRequire(import.meta.url);

async function haveCompiler(): Promise<boolean> {
  try {
    await run(compiler, ["--version"]);
    return true;
  } catch {
    return false;
  }
}

const available = await haveCompiler();
if (!available && process.env.CI) throw new Error(`Required under CI: the ${compiler} cross compiler`);
if (!available) console.log(`[arm64 build] skipped: no ${compiler} here (Debian: g++-aarch64-linux-gnu)`);

describe.runIf(available)("the native addon's sources for arm64", () => {
  it(
    "every source binding.gyp builds compiles for aarch64 without a warning",
    { timeout: 300_000 },
    async () => {
      const gyp = JSON.parse(readFileSync(path.join(addonDir, "binding.gyp"), "utf8")) as {
        targets: { sources: string[]; defines: string[] }[];
      };
      const { sources, defines } = gyp.targets[0];
      const includes = [
        path.dirname(require.resolve("node-addon-api/napi.h")),
        require("node-api-headers").include_dir as string,
      ];
      const args = (src: string) => [
        "-std=c++17",
        "-O1",
        "-Wall",
        "-Werror",
        "-fexceptions",
        ...defines.map((d) => `-D${d}`),
        ...includes.map((i) => `-I${i}`),
        "-c",
        path.join(addonDir, src),
        "-o",
        "/dev/null",
      ];
      // Two at a time: one per core of the smallest machine this runs on.
      const failures: string[] = [];
      for (let i = 0; i < sources.length; i += 2)
        await Promise.all(
          sources.slice(i, i + 2).map((src) =>
            run(compiler, args(src), { maxBuffer: 1 << 22 }).catch((e: { stderr?: string }) => {
              failures.push(`${src}:\n${String(e.stderr ?? e).slice(0, 2000)}`);
            }),
          ),
        );
      expect(failures).toEqual([]);
      expect(sources.length).toBeGreaterThan(10);
    },
  );
});
