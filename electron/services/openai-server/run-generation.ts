// One server request's answer: waits for the engine's turn (shared with the app's chats), loads
// the requested model if another is loaded, generates, and streams each token to the caller. When
// the client goes away (`signal`), a waiting turn is dropped and a running one is stopped at once,
// so the engine is free for the next request.
import { randomUUID } from "node:crypto";
import type { GenerationStats, Sampling, TokenFields } from "../../../wire/generation.js";
import type { ModelSummary } from "../../../wire/model.js";
import type { OutputConstraint } from "../../../wire/structured.js";
import type { HostChatMessage } from "../../../native-models/host/protocol.js";
import type { EngineClient } from "../engine-client.js";
import type { EngineTurns } from "../engine-turns.js";
import { engineUnavailable, OpenAiError } from "./errors.js";

/** The model library as the server needs it (the app's ModelLibrary, or the CLI's own). */
export interface ServerModels {
  list(): Promise<ModelSummary[]>;
  ensureLoaded(id: string): Promise<{ layers: number }>;
}

export interface GenerationDeps {
  engine: EngineClient;
  models: ServerModels;
  turns: EngineTurns;
}

export interface GenerationInput {
  modelId: string;
  /** Through the model's chat template, or `prompt` continued as is. */
  messages?: HostChatMessage[];
  prompt?: string;
  stop?: string[];
  sampling: Sampling;
  knob: number;
  constraint?: OutputConstraint;
  tools?: Record<string, unknown>[];
}

export interface GenerationOutcome {
  stats: GenerationStats;
  layers: number;
}

/** 404 for a model that is not in the library; 503 while the engine is down. */
export async function checkModel(deps: GenerationDeps, modelId: string): Promise<void> {
  checkEngine(deps.engine);
  // The loaded model is known without asking the engine, which answers a listing only between
  // tokens of the answer it is writing: requests for it join the line at once.
  if (deps.engine.status().loadedModelId === modelId) return;
  const known = (await deps.models.list()).some((m) => m.id === modelId);
  if (!known)
    throw new OpenAiError(
      404,
      "invalid_request_error",
      "model_not_found",
      `The model "${modelId}" does not exist in the Exitlane library.`,
      "model",
    );
}

export function runGeneration(
  deps: GenerationDeps,
  input: GenerationInput,
  signal: AbortSignal,
  onToken: (token: TokenFields, layers: number) => void,
): Promise<GenerationOutcome> {
  const { engine, models, turns } = deps;
  return turns.run(async () => {
    checkEngine(engine);
    const { layers } = await models.ensureLoaded(input.modelId);
    const genId = `server-${randomUUID()}`;
    const stopListening = engine.onEvent((event) => {
      if (event.event !== "tokens" || event.genId !== genId) return;
      for (const token of event.tokens) onToken(token, layers);
    });
    const stop = () => void engine.request("stop", { genId }).catch(() => undefined);
    signal.addEventListener("abort", stop, { once: true });
    try {
      const { modelId, messages, prompt, stop: stopStrings, sampling, knob, constraint, tools } = input;
      const stats = await engine.request("generate", {
        genId,
        modelId,
        ...(messages ? { messages } : { prompt }),
        ...(stopStrings ? { stop: stopStrings } : {}),
        sampling,
        knob,
        ...(constraint ? { constraint } : {}),
        ...(tools?.length ? { tools } : {}),
      });
      return { stats, layers };
    } finally {
      signal.removeEventListener("abort", stop);
      stopListening();
    }
  }, signal);
}

function checkEngine(engine: EngineClient): void {
  const { state, message } = engine.status();
  if (state === "restarting" || state === "crashed")
    throw engineUnavailable(message ?? `The engine is ${state}; try again shortly.`);
}
