// CPU time (ms) the processes of an app run use, read from /proc (Linux; elsewhere null): the
// engine host, the web host, and the browser this test drives. It says where a slow answer's
// machine time went, beside the speed the app shows.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

function processTable(): Array<{ pid: number; ppid: number; comm: string }> {
  return execFileSync("ps", ["-eo", "pid,ppid,comm", "--no-headers"], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
}

function descendants(root: number, table = processTable()): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const row of table) {
      if (row.ppid !== p) continue;
      out.push(row.pid);
      walk(row.pid);
    }
  };
  walk(root);
  return out;
}

export type CpuSample = { engine: number; webHost: number; browser: number };

/** A reader of the three processes' CPU time so far; null where /proc is not there. */
export function processCpu(webHostPid: number): (() => CpuSample) | null {
  if (process.platform !== "linux") return null;
  return () => {
    const table = processTable();
    const engine = descendants(webHostPid, table).reduce((sum, p) => sum + cpuMs(p), 0);
    // The browser Playwright started for this worker: the Chromium processes below this one.
    const browser = descendants(process.pid, table)
      .filter((p) => /chrom/.test(table.find((r) => r.pid === p)?.comm ?? ""))
      .reduce((sum, p) => sum + cpuMs(p), 0);
    return { engine, webHost: cpuMs(webHostPid), browser };
  };
}
