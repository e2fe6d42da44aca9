// JSON Schemas the structured-output tests share: nested objects, bounded arrays, enums, integer
// ranges, anyOf/oneOf with $ref. Strings are bounded so that a sampled answer ends.
export const SCHEMAS: Record<string, Record<string, unknown>> = {
  nested: {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 12 },
      address: {
        type: "object",
        properties: {
          city: { type: "string", maxLength: 10 },
          zip: { type: "string", pattern: "^[0-9]{5}$" },
        },
        required: ["city", "zip"],
        additionalProperties: false,
      },
    },
    required: ["name", "address"],
    additionalProperties: false,
  },
  boundedArray: {
    type: "array",
    items: { type: "integer", minimum: 0, maximum: 99 },
    minItems: 2,
    maxItems: 4,
  },
  enums: {
    type: "object",
    properties: {
      colour: { enum: ["red", "green", "blue"] },
      ok: { type: "boolean" },
      none: { type: "null" },
    },
    required: ["colour", "ok", "none"],
    additionalProperties: false,
  },
  integerRange: {
    type: "object",
    properties: {
      age: { type: "integer", minimum: 18, maximum: 120 },
      score: { type: "number", maximum: 10, minimum: -3 },
    },
    required: ["age", "score"],
    additionalProperties: false,
  },
  anyOfRefs: {
    $defs: {
      cat: {
        type: "object",
        properties: { kind: { const: "cat" }, lives: { type: "integer", minimum: 1, maximum: 9 } },
        required: ["kind", "lives"],
        additionalProperties: false,
      },
      dog: {
        type: "object",
        properties: { kind: { const: "dog" }, name: { type: "string", minLength: 1, maxLength: 8 } },
        required: ["kind", "name"],
        additionalProperties: false,
      },
    },
    type: "object",
    properties: {
      pet: { anyOf: [{ $ref: "#/$defs/cat" }, { $ref: "#/$defs/dog" }] },
      tag: {
        oneOf: [
          { type: "integer", minimum: 0, maximum: 5 },
          { type: "string", maxLength: 4 },
        ],
      },
    },
    required: ["pet", "tag"],
    additionalProperties: false,
  },
};
