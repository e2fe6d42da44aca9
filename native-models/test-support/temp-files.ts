import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TempDir {
  dir: string;
  /** Writes one file directly in the temp folder; returns its path. */
  write(name: string, data: Uint8Array | string): string;
  /** Writes a set of files into a new sub-folder; returns the sub-folder's path. */
  folder(name: string, files: Record<string, Uint8Array | string>): string;
  cleanup(): void;
}

/** A fresh temporary folder; call cleanup() (e.g. in afterAll) to remove it. */
export function makeTempDir(prefix = "exitlane-test-"): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    write(name, data) {
      const p = path.join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    folder(name, files) {
      const d = path.join(dir, name);
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true });
      for (const [f, data] of Object.entries(files)) writeFileSync(path.join(d, f), data);
      return d;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
