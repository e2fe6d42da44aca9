// Checks a constraint the way compiling it would, without a tokenizer: the back end refuses an
// unsupported schema (400, naming the keyword) before the request waits for the engine.
import type { OutputConstraint } from "../../../wire/structured.js";
import { schemaToEbnf } from "./json-ebnf.js";
import { prepareSchema } from "./schema-support.js";

export { UnsupportedSchemaError } from "./schema-support.js";

/** Throws UnsupportedSchemaError where the engine would. */
export function checkConstraint(c: OutputConstraint): void {
  if (c.type === "json_schema") schemaToEbnf(prepareSchema(c.schema));
}
