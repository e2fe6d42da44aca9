// What an answer must look like, as the back end asks the engine for it: text that parses as JSON
// valid against a schema, or any JSON object. The engine enforces it token by token (constrained
// decoding), so such an answer always parses when it ends on its own.
import { z } from "zod";

export const OutputConstraint = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("json_schema"),
      /** A JSON Schema (the subset schema-support.ts lists; anything else is refused, not ignored). */
      schema: z.record(z.string(), z.unknown()),
    })
    .strict(),
  z.object({ type: z.literal("json_object") }).strict(),
]);
export type OutputConstraint = z.infer<typeof OutputConstraint>;
