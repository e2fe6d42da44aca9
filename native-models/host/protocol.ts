// The wire protocol between the app's main process and the engine host process.
//
// parent -> host   HostRequest  { id, method, params }
// host -> parent   HostReply    { id, ok: true, result } | { id, ok: false, error: WireError }
//                  HostEvent    { event: "ready" | "tokens" | "progress" | "loading" | "log", ... }
//
// Every message is plain JSON (it crosses child_process IPC and Electron's MessagePort alike).
// Both sides validate what they receive with these schemas. This file must not import Electron:
// the host runs under plain Node too. Shapes the app's contract shares come from wire/.
import { z } from "zod";
import { WireError } from "../../wire/errors.js";
import { EngineInfo, EngineUsage } from "../../wire/engine.js";
import { ContextOverflow, GenerationStats, Sampling, TokenFields } from "../../wire/generation.js";
import { Id, ImportPlan, ImportStage, ModelSummary, Quant } from "../../wire/model.js";
import { OutputConstraint } from "../../wire/structured.js";

export {
  EngineInfo,
  EngineUsage,
  GenerationStats,
  ImportPlan,
  ImportStage,
  ModelSummary,
  Quant,
  Sampling,
  TokenFields,
};

/** 2: streamed tokens come in batches (`tokens`), no longer one `token` event each. */
export const PROTOCOL_VERSION = 2;

const id = Id;
const filePath = z.string().min(1).max(4096);

export const HostChatMessage = z.object({
  /** "tool": a function's result. */
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
  /** Calls the assistant made (arguments parsed), for the template to write in its own format. */
  toolCalls: z
    .array(z.object({ name: z.string(), arguments: z.unknown() }))
    .max(64)
    .optional(),
});
export type HostChatMessage = z.infer<typeof HostChatMessage>;

// ---------- methods ----------

const none = z.object({}).strict();

export const hostMethods = {
  /** Machine and runtime facts: onnxruntime version, execution providers, CPU, memory. */
  info: { params: none, result: EngineInfo },
  /** The host process's memory and CPU use (cheap; answered between tokens while generating). */
  usage: { params: none, result: EngineUsage },
  /** Converts a GGUF file, HF folder or llama2.c file into a model package; streams `progress` events. */
  importModel: {
    params: z
      .object({
        jobId: id,
        source: filePath,
        modelsDir: filePath,
        quant: Quant.optional(),
        name: z.string().max(200).optional(),
        /** A file already in the library in this quantization: refuse (code already_imported) or import again. */
        duplicates: z.enum(["refuse", "allow"]).optional(),
      })
      .strict(),
    result: z.object({ model: ModelSummary }),
  },
  /** Measures the speed/accuracy curve of an imported model; streams `progress` events (stage "calibrate"). */
  calibrate: {
    params: z.object({ jobId: id, modelsDir: filePath, modelId: id }).strict(),
    result: z.object({ model: ModelSummary }),
  },
  /** Cancels a running import or calibration job; its partial output is removed. */
  cancel: { params: z.object({ jobId: id }).strict(), result: z.object({ cancelled: z.boolean() }) },
  listModels: { params: z.object({ modelsDir: filePath }).strict(), result: z.array(ModelSummary) },
  deleteModel: {
    params: z.object({ modelsDir: filePath, modelId: id }).strict(),
    result: z.object({ deleted: z.boolean() }),
  },
  renameModel: {
    params: z.object({ modelsDir: filePath, modelId: id, name: z.string().min(1).max(200) }).strict(),
    result: ModelSummary,
  },
  /** Loads a model for generation (replacing any loaded one). */
  load: {
    params: z
      .object({
        modelsDir: filePath,
        modelId: id,
        threads: z.number().int().min(1),
        executionProvider: z.string().min(1),
        contextLength: z.number().int().min(1),
      })
      .strict(),
    result: z.object({
      modelId: id,
      layers: z.number().int(),
      mode: ModelSummary.shape.mode,
      executionProvider: z.string(),
      /** Which kernels run the layers, e.g. "native avx512-vnni" or "onnxruntime MatMulNBits". */
      kernels: z.string(),
      /** Set when the native kernels do not run this model (onnxruntime does, slower): why. */
      nativeNotice: z.string().optional(),
      /** Set when the requested provider failed and the engine fell back to CPU. */
      fallbackNotice: z.string().optional(),
    }),
  },
  unload: { params: none, result: z.object({ unloaded: z.boolean() }) },
  /**
   * Generates an answer; streams `tokens` events with this genId and replies with the stats when
   * the answer ends (eos, max tokens, stop, context full). The prompt is either `messages` (through
   * the model's chat template) or a raw `prompt` to continue (no template), never both.
   */
  generate: {
    params: z
      .object({
        genId: id,
        modelId: id,
        messages: z.array(HostChatMessage).min(1).optional(),
        prompt: z.string().min(1).max(1_000_000).optional(),
        /** Strings that end the answer (they are not part of it), besides the model's own. */
        stop: z.array(z.string().min(1).max(200)).max(16).optional(),
        /** When the conversation outgrows the context (default "stop": an error). */
        overflow: ContextOverflow.optional(),
        sampling: Sampling,
        knob: z.number().min(0).max(1),
        /** The answer must parse as this: constrained decoding, token by token. */
        constraint: OutputConstraint.optional(),
        /** Function definitions (OpenAI's shape) for chat templates that describe tools to the model. */
        tools: z.array(z.record(z.string(), z.unknown())).max(128).optional(),
      })
      .strict()
      .refine((p) => (p.messages === undefined) !== (p.prompt === undefined), {
        message: "give either messages or prompt",
      }),
    result: GenerationStats,
  },
  /** Stops a running generation at the next token; its `generate` request then replies with stopReason "stopped". */
  stop: { params: z.object({ genId: id }).strict(), result: z.object({ stopped: z.boolean() }) },
  /** Speed/accuracy knob, applied from the next token (also mid-answer). */
  setKnob: { params: z.object({ value: z.number().min(0).max(1) }).strict(), result: z.object({}) },
} as const;

export type HostMethod = keyof typeof hostMethods;
export type ParamsOf<M extends HostMethod> = z.infer<(typeof hostMethods)[M]["params"]>;
export type ResultOf<M extends HostMethod> = z.infer<(typeof hostMethods)[M]["result"]>;
export const hostMethodNames = Object.keys(hostMethods) as HostMethod[];

export function isHostMethod(name: unknown): name is HostMethod {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(hostMethods, name);
}

// ---------- messages ----------

export const HostRequest = z
  .object({ id: z.number().int().min(0), method: z.string().max(100), params: z.unknown() })
  .strict();
export type HostRequest<M extends HostMethod = HostMethod> = { id: number; method: M; params: ParamsOf<M> };

export const HostReply = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    id: z.number().int(),
    ok: z.literal(false),
    error: WireError,
  }),
]);
export type HostReply = z.infer<typeof HostReply>;

export const HostEvent = z.discriminatedUnion("event", [
  /** First message after start: what this host can do. */
  z.object({
    event: z.literal("ready"),
    protocol: z.number().int(),
    pid: z.number().int(),
    methods: z.array(z.string()),
  }),
  /** Streamed tokens of one answer, in order (several when they come faster than a few ms apart). */
  z.object({ event: z.literal("tokens"), genId: id, tokens: z.array(TokenFields).min(1) }),
  z.object({
    event: z.literal("progress"),
    jobId: id,
    stage: ImportStage,
    /** 0..1 within the stage. */
    progress: z.number().min(0).max(1),
    detail: z.string().optional(),
    /** Sent once per import, with its first progress after the source's header is read. */
    plan: ImportPlan.optional(),
  }),
  z.object({
    event: z.literal("loading"),
    modelId: z.string(),
    /** 0..1: share of the model's onnxruntime sessions created so far. */
    progress: z.number().min(0).max(1),
  }),
  z.object({ event: z.literal("log"), level: z.enum(["info", "warn", "error"]), message: z.string() }),
]);
export type HostEvent = z.infer<typeof HostEvent>;
export type HostEventOf<E extends HostEvent["event"]> = Extract<HostEvent, { event: E }>;

export type HostToParent = HostReply | HostEvent;

/** Tells a reply from an event (replies carry `ok`, events carry `event`). */
export function parseHostMessage(
  raw: unknown,
): { reply: HostReply } | { event: HostEvent } | { invalid: string } {
  if (raw && typeof raw === "object" && "event" in raw) {
    const parsed = HostEvent.safeParse(raw);
    return parsed.success ? { event: parsed.data } : { invalid: z.prettifyError(parsed.error) };
  }
  const parsed = HostReply.safeParse(raw);
  return parsed.success ? { reply: parsed.data } : { invalid: z.prettifyError(parsed.error) };
}
