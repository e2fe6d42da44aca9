// Helpers to start the real engine host process from tests (through tsx, from its TypeScript source).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { forkNodeHost, type SpawnHost } from "../services/host-process.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const realHostEntry = path.resolve(here, "../../native-models/host/main.ts");

/** Forks a TypeScript host entry through tsx, as a plain child process. */
export function spawnTsHost(entry: string, env: Record<string, string> = {}): SpawnHost {
  return forkNodeHost(entry, { execArgv: ["--import", "tsx"], env: { ...process.env, ...env } });
}
