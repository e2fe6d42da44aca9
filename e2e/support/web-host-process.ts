// Starts the built web host (dist/main/web.cjs) as its own process over a fresh user-data folder,
// exactly as `npm run web` does, and stops it again. It starts the real engine host in turn.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface RunningWebHost {
  url: string;
  origin: string;
  token: string;
  port: number;
  pid: number;
  userDataDir: string;
  stop(): Promise<void>;
}

export async function startWebHostProcess(env: Record<string, string> = {}): Promise<RunningWebHost> {
  const entry = path.join(repoRoot, "dist/main/web.cjs");
  if (!existsSync(entry))
    throw new Error("dist/main/web.cjs is missing: run `npm run build` first (npm run test:e2e does).");
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "exitlane-e2e-"));
  const child = spawn(process.execPath, [entry, "--json", "--user-data", userDataDir], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const info = await firstLine(child);
  return {
    ...info,
    userDataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

function firstLine(
  child: ChildProcess,
): Promise<{ url: string; origin: string; token: string; port: number; pid: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("The web host did not start within 30 s")), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`Unexpected web host output: ${line}`));
      }
    });
    child.once("exit", (code) => reject(new Error(`The web host exited early (code ${code})`)));
  });
}
