// The engine host's own memory and CPU use. CPU is the time this process used since the previous
// reading (every thread, onnxruntime's included) over the wall time between readings and the
// machine's cores, so 100 means every core busy.
import os from "node:os";
import type { EngineUsage } from "./protocol.js";

let last: { at: bigint; cpu: NodeJS.CpuUsage } | null = null;

export function measureUsage(): EngineUsage {
  const at = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let cpuPercent = 0;
  if (last) {
    const wallUs = Number(at - last.at) / 1000;
    const usedUs = cpu.user - last.cpu.user + (cpu.system - last.cpu.system);
    if (wallUs > 0) cpuPercent = Math.min(100, (100 * usedUs) / (wallUs * os.availableParallelism()));
  } else {
    // First reading: the average since the process started.
    const upUs = process.uptime() * 1e6;
    if (upUs > 0)
      cpuPercent = Math.min(100, (100 * (cpu.user + cpu.system)) / (upUs * os.availableParallelism()));
  }
  last = { at, cpu };
  return {
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    cpuPercent: Math.round(cpuPercent * 10) / 10,
  };
}
