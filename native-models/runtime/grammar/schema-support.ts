// The JSON Schema subset constrained decoding honours, checked before anything is compiled. A
// keyword outside it is refused with its name and where it is, never silently ignored: an answer
// that "always parses" but ignores part of the schema would be a lie. json-ebnf.ts turns each
// keyword listed here into grammar (and refuses the combinations it cannot express).

export class UnsupportedSchemaError extends Error {
  override readonly name = "UnsupportedSchemaError";
  constructor(
    readonly keyword: string,
    readonly at: string,
    detail?: string,
  ) {
    super(`JSON Schema keyword "${keyword}" at ${at} is not supported${detail ? ` (${detail})` : ""}`);
  }
}

/** Keywords that only describe (they constrain nothing, so they are accepted and left alone). */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "default",
  "examples",
  "$schema",
  "$id",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

/** Keywords that constrain and that the grammar enforces. */
const CONSTRAINTS = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "const",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "anyOf",
  "oneOf",
  "$ref",
  "$defs",
  "definitions",
]);

const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean", "null"]);

type Json = Record<string, unknown>;

/**
 * Checks `schema` and returns it without its annotations. Throws UnsupportedSchemaError for
 * anything it cannot enforce.
 */
export function prepareSchema(schema: unknown): Json {
  return walk(schema, "#") as Json;
}

function walk(node: unknown, at: string): unknown {
  if (node === true) return {};
  if (!isObject(node)) throw new UnsupportedSchemaError("(schema)", at, "a schema must be an object or true");
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (ANNOTATIONS.has(key)) continue; // described, not constrained: the grammar has no use for it
    if (!CONSTRAINTS.has(key)) throw new UnsupportedSchemaError(key, at);
    out[key] = child(key, value, `${at}/${key}`);
  }
  // {"$defs": …, "$ref": "#/$defs/…"} at the root is how generated schemas often look.
  const beside = Object.keys(out).filter((k) => k !== "$ref" && k !== "$defs" && k !== "definitions");
  if (typeof out.$ref === "string" && beside.length > 0)
    throw new UnsupportedSchemaError("$ref", at, "keywords beside $ref are not supported");
  return out;
}

function child(key: string, value: unknown, at: string): unknown {
  switch (key) {
    case "type": {
      const types = Array.isArray(value) ? value : [value];
      for (const t of types)
        if (typeof t !== "string" || !TYPES.has(t))
          throw new UnsupportedSchemaError("type", at, `type ${String(t)}`);
      return value;
    }
    case "properties":
    case "$defs":
    case "definitions":
      if (!isObject(value)) throw new UnsupportedSchemaError(key, at, "must be an object of schemas");
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${at}/${k}`)]));
    case "items":
      if (Array.isArray(value))
        throw new UnsupportedSchemaError("items", at, "tuple form (an array of schemas)");
      return walk(value, at);
    case "additionalProperties":
      return typeof value === "boolean" ? value : walk(value, at);
    case "anyOf":
    case "oneOf":
      if (!Array.isArray(value) || value.length === 0)
        throw new UnsupportedSchemaError(key, at, "must be a non-empty array of schemas");
      return value.map((v, i) => walk(v, `${at}/${i}`));
    case "$ref":
      if (typeof value !== "string" || !/^#(\/(\$defs|definitions)\/[^/]+)?$/.test(value))
        throw new UnsupportedSchemaError("$ref", at, "only local references to #/$defs/… or #/definitions/…");
      return value;
    case "required":
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
        throw new UnsupportedSchemaError(key, at, "must be an array of property names");
      return value;
    case "pattern":
      if (typeof value !== "string") throw new UnsupportedSchemaError(key, at, "must be a string");
      return value;
    case "minItems":
    case "maxItems":
    case "minLength":
    case "maxLength":
      if (!Number.isInteger(value) || (value as number) < 0)
        throw new UnsupportedSchemaError(key, at, "must be a non-negative integer");
      return value;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      if (typeof value !== "number" || !Number.isFinite(value))
        throw new UnsupportedSchemaError(key, at, "must be a number");
      return value;
    default:
      return value; // enum, const: any JSON value
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
