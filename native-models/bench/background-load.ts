// A separate process that keeps N threads busy while a benchmark runs (bench --background-load):
// a user's laptop always has a browser or a build running beside the app.
import { spawn, type ChildProcess } from "node:child_process";

const SPIN = "let x = 1; for (;;) x = (Math.imul(x, 1103515245) + 12345) | 0;";

/** Starts the load and resolves once its N threads spin; stop it with `.kill()`. */
export function startBackgroundLoad(threads: number): Promise<ChildProcess> {
  const code = `
    const { Worker } = require("node:worker_threads");
    for (let i = 0; i < ${threads}; i++) new Worker(${JSON.stringify(SPIN)}, { eval: true });
    process.send("spinning");`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`background load exited early (${code})`)));
  });
}
