#!/usr/bin/env node
// Builds the native kernels (addon/: decoder layers, LM head, sparse FFN) with node-gyp at install time.
// It must never fail an install: on any problem (no compiler, no headers, no node-gyp, a build
// that does not load) it prints one line saying so and exits 0, and the engine runs on
// onnxruntime. EXITLANE_SKIP_NATIVE_BUILD=1 (formerly EXITLANE_SKIP_SPARSE_BUILD) skips it.
//
// Headers: node-gyp would download them from nodejs.org, which may be unreachable. npm passes its
// `nodedir` setting as npm_config_nodedir (node-gyp reads that itself); when run by hand we point
// node-gyp at the headers of the running Node installation if it ships them (e.g. /usr/include/node).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const addonDir = path.join(here, "addon");
const output = path.join(addonDir, "build", "Release", "exitlane_native.node");
const logFile = path.join(addonDir, "build", "build-addon.log");
const say = (msg) => console.log(`exitlane native kernels: ${msg}`);

function giveUp(reason, log) {
  rmSync(output, { force: true }); // a half-built or unloadable addon must not be picked up later
  if (log) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, log);
  }
  say(
    `not built (${reason}); the engine will run on onnxruntime, slower.${log ? ` Log: ${path.relative(process.cwd(), logFile)}` : ""}`,
  );
  process.exit(0);
}

function nodeGypArgs() {
  const args = ["rebuild", `--jobs=${Math.max(1, availableParallelism())}`];
  if (!process.env.npm_config_nodedir) {
    const prefix = path.resolve(path.dirname(process.execPath), "..");
    if (existsSync(path.join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
  }
  return args;
}

function main() {
  const skip = ["EXITLANE_SKIP_NATIVE_BUILD", "EXITLANE_SKIP_SPARSE_BUILD"].find(
    (k) => process.env[k] === "1",
  );
  if (skip) {
    say(`build skipped (${skip}=1)`);
    return;
  }
  let nodeGyp;
  try {
    nodeGyp = createRequire(path.join(here, "..", "..", "package.json")).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    giveUp("node-gyp is not installed (dev dependencies omitted?)");
  }
  const started = Date.now();
  const build = spawnSync(process.execPath, [nodeGyp, ...nodeGypArgs()], {
    cwd: addonDir,
    encoding: "utf8",
    timeout: 10 * 60_000,
    env: { ...process.env, npm_config_loglevel: process.env.npm_config_loglevel ?? "warn" },
  });
  const log = `${build.stdout ?? ""}\n${build.stderr ?? ""}${build.error ? `\n${build.error.message}` : ""}`;
  if (build.error || build.status !== 0) {
    // The first line that names the cause (missing compiler, headers, Python...), shortened.
    const cause = log
      .split("\n")
      .find(
        (l) =>
          /error|not found|no such file|cannot find|could not find/i.test(l) &&
          !/gyp ERR! (stack|not ok)/.test(l),
      );
    giveUp(
      cause
        ? cause
            .replace(/^gyp (ERR!|WARN) /, "")
            .trim()
            .slice(0, 160)
        : `node-gyp exited with ${build.error?.message ?? build.status}`,
      log,
    );
  }
  // Load it in a child process: a broken build must not crash this installer.
  const probe = spawnSync(
    process.execPath,
    ["-e", `const a = require(${JSON.stringify(output)}); console.log(a.kernels)`],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (probe.status !== 0)
    giveUp("built but does not load", `${log}\n--- load probe ---\n${probe.stdout}\n${probe.stderr}`);
  say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s (kernels: ${probe.stdout.trim()})`);
}

try {
  main();
} catch (err) {
  giveUp(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
}
