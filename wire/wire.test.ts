// The app's contract and the engine host's protocol describe shared data with the very same
// schema objects from wire/, so a shape cannot drift between the two.
import { describe, expect, it } from "vitest";
import * as contract from "../electron/contract";
import * as protocol from "../native-models/host/protocol";
import * as generation from "./generation";
import * as model from "./model";
import * as engine from "./engine";

describe("one wire vocabulary", () => {
  it("the contract and the host protocol export the same schema objects", () => {
    for (const name of [
      "EngineInfo",
      "ModelSummary",
      "Quant",
      "Sampling",
      "GenerationStats",
      "ImportStage",
      "ImportPlan",
      "TokenFields",
    ] as const) {
      expect(contract[name], name).toBe(protocol[name]);
    }
    expect(contract.KnobPoint).toBe(model.KnobPoint);
    expect(contract.EngineInfo).toBe(engine.EngineInfo);
    expect(protocol.hostMethods.generate.params.shape.sampling).toBe(generation.Sampling);
    expect(protocol.hostMethods.generate.result).toBe(generation.GenerationStats);
    expect(contract.events["generation.done"].shape.stats).toBe(generation.GenerationStats);
    expect(contract.requests["models.list"].reply.element).toBe(model.ModelSummary);
    expect(contract.ImportJob.shape.plan.unwrap()).toBe(model.ImportPlan);
    expect(contract.ModelSummary.shape.calibration.shape.curve.element).toBe(model.KnobPoint);
  });

  it("a token carries the same fields on both sides, and the layer count on neither", () => {
    const hostTokens = protocol.HostEvent.options.find((o) => o.shape.event.value === "tokens")!;
    if (!("tokens" in hostTokens.shape)) throw new Error("the host's tokens event carries no tokens");
    expect(hostTokens.shape.tokens.element).toBe(generation.TokenFields);
    const appToken = contract.events["generation.token"];
    const fields = Object.keys(generation.TokenFields.shape);
    expect(Object.keys(appToken.shape).sort()).toEqual([...fields, "conversationId", "messageId"].sort());
    for (const f of fields)
      expect(appToken.shape[f as keyof typeof appToken.shape]).toBe(
        generation.TokenFields.shape[f as keyof typeof generation.TokenFields.shape],
      );
    expect(fields).not.toContain("layers");
  });
});
