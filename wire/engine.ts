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
  sparseKernel: z.object({ available: z.boolean(), detail: z.string() }),
  hostPid: z.number().int(),
});
export type EngineInfo = z.infer<typeof EngineInfo>;
