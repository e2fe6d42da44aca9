// What the engine says about the machine it runs on (the engine host measures it, the app shows it).
import { z } from "zod";

export const EngineInfo = z.object({
  onnxruntimeVersion: z.string(),
  executionProviders: z.array(z.object({ name: z.string(), bundled: z.boolean() })),
  cpu: z.object({
    model: z.string(),
    cores: z.number().int(),
    simd: z.array(z.string()),
    arch: z.string(),
  }),
  totalMemoryBytes: z.number(),
  platform: z.string(),
  /**
   * The native kernels: whether they load in the engine's process, the instruction sets this CPU
   * runs them with (best first; empty when unavailable) and, in words, where from or why not.
   * Without them the engine runs on onnxruntime, several times slower.
   */
  nativeKernels: z.object({ available: z.boolean(), kernels: z.array(z.string()), detail: z.string() }),
  hostPid: z.number().int(),
});
export type EngineInfo = z.infer<typeof EngineInfo>;

/** What the engine host process uses right now (the app shows it, polled every few seconds). */
export const EngineUsage = z.object({
  pid: z.number().int(),
  /** Resident memory of the engine host process. */
  rssBytes: z.number().min(0),
  /** CPU time it used since the previous reading, as a share of all the machine's cores (0..100). */
  cpuPercent: z.number().min(0),
});
export type EngineUsage = z.infer<typeof EngineUsage>;
