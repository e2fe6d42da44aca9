// Constrained decoding over real vocabularies (SentencePiece with byte fallback: kjv16 4096 and
// Llama's 32000; byte-level BPE: GPT-2's 50257): whatever a sampler picks among the allowed
// tokens, the text parses and validates, tokens that span grammar boundaries included; and the
// schema subset is enforced or refused by name.
import Ajv from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { haveShared, kjv16, vocabOnly } from "../../test-support/shared-fixtures.js";
import { tokenizerFromGgufFile } from "../../tokenizer/testing/fixtures.js";
import type { TextTokenizer } from "../../tokenizer/text-tokenizer.js";
import { seededRandom } from "../sampler.js";
import { prepareSchema, UnsupportedSchemaError } from "./schema-support.js";
import { checkConstraint } from "./check.js";
import { GrammarSupport } from "./token-constraint.js";
import { grammarVocabulary } from "./vocabulary.js";
import { SCHEMAS as ACCEPTANCE } from "../../test-support/json-schemas.js";

const SCHEMAS: Record<string, Record<string, unknown>> = {
  ...ACCEPTANCE,
  wideRanges: {
    type: "object",
    properties: {
      a: { type: "integer", minimum: 7, maximum: 123456 },
      b: { type: "integer", minimum: -5000, maximum: 70 },
      c: { type: "integer", minimum: 18 },
      d: { type: "integer", maximum: 120 },
      e: { type: "integer", exclusiveMaximum: -18 },
      f: { type: "integer", minimum: -123456, maximum: -1007 },
      g: { type: "number", minimum: -2.5, maximum: 3.5 },
      h: { enum: Array.from({ length: 40 }, (_, i) => String(i)) },
      i: { type: "string", pattern: "^[a-c]{2}-?\\d{1,3}(x|yz)$" },
      j: { type: "string", pattern: "ab" },
      k: { type: "integer", minimum: 0, maximum: 120 },
    },
    required: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "k"],
    additionalProperties: false,
  },
  recursiveTree: {
    $defs: {
      node: {
        type: "object",
        properties: {
          v: { type: "integer", minimum: 0, maximum: 9 },
          kids: { type: "array", items: { $ref: "#/$defs/node" }, maxItems: 2 },
          note: { type: ["string", "null"], minLength: 1, maxLength: 5 },
        },
        required: ["v"],
        additionalProperties: false,
      },
    },
    $ref: "#/$defs/node",
  },
  anyMap: { type: "object", additionalProperties: { type: "boolean" } },
};

const VOCABS = [
  { name: "kjv16 SentencePiece 4096", file: kjv16.ggufQ8, fixture: "models/kjv16/kjv16-q8_0.gguf" },
  {
    name: "Llama SentencePiece 32000",
    file: vocabOnly.llamaSpm,
    fixture: "models/vocab-only/ggml-vocab-llama-spm.gguf",
  },
  {
    name: "GPT-2 byte-level BPE 50257",
    file: vocabOnly.gpt2,
    fixture: "models/vocab-only/ggml-vocab-gpt-2.gguf",
  },
];

const ajv = new Ajv({ strict: false });
const CLOSERS = new Set([",", "}", "]", '"']);

/**
 * Random "model": uniform logits noise, sampled among the allowed tokens. Favouring the end of
 * text once allowed, and sometimes a closing character, keeps walks short; nothing else steers
 * them, so they probe odd tokenizations.
 */
async function walk(support: GrammarSupport, tok: TextTokenizer, size: number, schema: object, seed: number) {
  const c = await support.constraint({ type: "json_schema", schema: schema as Record<string, unknown> });
  const random = seededRandom(seed);
  const ids: number[] = [];
  let maskMs = 0;
  try {
    for (let step = 0; step < 400; step++) {
      const logits = new Float32Array(size);
      for (let i = 0; i < size; i++) logits[i] = random();
      for (const e of tok.eos) logits[e] = 2;
      const t = performance.now();
      await c.mask(logits);
      maskMs += performance.now() - t;
      const allowed: number[] = [];
      let best = -1;
      for (let i = 0; i < size; i++) if (logits[i] > -Infinity) allowed.push(i);
      for (const e of tok.eos) if (logits[e] > -Infinity) best = e;
      // Now and then a closing character, so unbounded numbers and strings end.
      const closers = allowed.filter((i) => CLOSERS.has(tok.decode([i])));
      const pick = closers.length && random() < 0.3 ? closers : allowed;
      const id = best >= 0 ? best : pick[Math.floor(random() * pick.length)];
      c.accept(id);
      if (tok.eos.has(id)) return { text: tok.decode(ids), steps: step + 1, maskMs, ended: true };
      ids.push(id);
    }
    return { text: tok.decode(ids), steps: 400, maskMs, ended: false };
  } finally {
    c.dispose();
  }
}

for (const v of VOCABS) {
  describe.skipIf(!haveShared(v.fixture))(`constrained decoding: ${v.name}`, () => {
    let tok: TextTokenizer;
    let support: GrammarSupport;
    beforeAll(async () => {
      tok = await tokenizerFromGgufFile(v.file);
      const t = performance.now();
      support = await GrammarSupport.create(grammarVocabulary(tok, tok.vocabSize));
      console.log(`[grammar] ${v.name}: tokenizer info + compiler ${(performance.now() - t).toFixed(0)} ms`);
    }, 60_000);

    for (const [name, schema] of Object.entries(SCHEMAS)) {
      it(`${name}: every random walk under the mask parses and validates`, async () => {
        const validate = ajv.compile(schema);
        let steps = 0;
        let ms = 0;
        for (let seed = 1; seed <= 6; seed++) {
          const r = await walk(support, tok, tok.vocabSize, schema, seed);
          expect(r.ended, r.text).toBe(true);
          steps += r.steps;
          ms += r.maskMs;
          const value: unknown = JSON.parse(r.text);
          expect(validate(value), `${r.text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        }
        console.log(
          `[grammar] ${v.name} ${name}: ${(ms / steps).toFixed(3)} ms per mask over ${steps} steps`,
        );
      }, 60_000);
    }

    it("judges tokens that span a grammar boundary, and byte pieces of one character, by their bytes", async () => {
      // Every token's exact text, to write a prefix token by token (longest first, as BPE would).
      const byText = new Map<string, number>();
      for (let id = 0; id < tok.vocabSize; id++) {
        const b = tok.tokenBytes(id);
        if (b && !tok.isSpecial(id)) byText.set(Buffer.from(b).toString("latin1"), id);
      }
      const idsFor = (text: string) => {
        const bytes = Buffer.from(text, "utf8").toString("latin1");
        const ids: number[] = [];
        for (let at = 0; at < bytes.length;) {
          let len = bytes.length - at;
          while (len > 0 && !byText.has(bytes.slice(at, at + len))) len--;
          if (!len) throw new Error(`no token for ${bytes.slice(at)}`);
          ids.push(byText.get(bytes.slice(at, at + len))!);
          at += len;
        }
        return ids;
      };
      const schema = {
        type: "object",
        properties: { a: { type: "string", maxLength: 6 }, b: { type: "integer", minimum: 0, maximum: 9 } },
        required: ["a", "b"],
        additionalProperties: false,
      };
      const c = await support.constraint({ type: "json_schema", schema });
      const logits = new Float32Array(tok.vocabSize);
      for (const id of idsFor('{"a":"x')) {
        logits.fill(0);
        await c.mask(logits);
        expect(logits[id]).toBe(0);
        c.accept(id);
      }
      logits.fill(0);
      await c.mask(logits);
      const allowed = (text: string) => byText.has(text) && logits[byText.get(text)!] === 0;
      // A quote that closes the string and opens the next member, in one token where there is one.
      if (byText.has('",')) expect(allowed('",')).toBe(true);
      if (byText.has('"}')) expect(allowed('"}')).toBe(false); // "b" is required
      if (byText.has('"]')) expect(allowed('"]')).toBe(false);
      expect(allowed('"')).toBe(true);
      // "é" as UTF-8 bytes C3 A9: after a lone C3 piece only a continuation byte may follow.
      const lead = byText.get("\xc3");
      const tail = byText.get("\xa9");
      // Both kinds of vocabulary have a token for every byte (byte fallback, byte-level BPE).
      expect(lead !== undefined && tail !== undefined).toBe(true);
      if (lead !== undefined && tail !== undefined) {
        expect(logits[lead]).toBe(0);
        c.accept(lead);
        logits.fill(0);
        await c.mask(logits);
        expect(logits[tail]).toBe(0);
        expect(logits[byText.get('"')!]).toBe(-Infinity); // the string cannot end mid-character
        expect(logits[byText.get("a")!]).toBe(-Infinity);
      }
      c.dispose();
    });

    it("forbids a token the grammar cannot take, and refuses it if it is forced", async () => {
      const c = await support.constraint({ type: "json_object" });
      const logits = new Float32Array(tok.vocabSize);
      await c.mask(logits);
      const exactly = (text: string) => {
        for (let id = 0; id < tok.vocabSize; id++)
          if (tok.decode([id]) === text && !tok.isSpecial(id)) return id;
        throw new Error(`no token for ${text}`);
      };
      const open = exactly("{");
      const letter = exactly("a");
      expect(logits[open]).toBe(0);
      expect(logits[letter]).toBe(-Infinity);
      for (const e of tok.eos) expect(logits[e]).toBe(-Infinity); // nothing written yet
      expect(() => c.accept(letter)).toThrow(/breaks/);
      c.dispose();
    });
  });
}

describe("JSON Schema support", () => {
  it("refuses a keyword it cannot enforce, by name and place", () => {
    const cases: [object, string, string][] = [
      [{ type: "string", format: "email" }, "format", "#"],
      [{ type: "object", patternProperties: { a: {} } }, "patternProperties", "#"],
      [{ allOf: [{ type: "string" }] }, "allOf", "#"],
      [
        { type: "object", properties: { a: { type: "array", uniqueItems: true } } },
        "uniqueItems",
        "#/properties/a",
      ],
      [{ type: "array", items: [{ type: "string" }] }, "items", "#/items"],
      [{ $ref: "https://example.com/s.json" }, "$ref", "#/$ref"],
    ];
    for (const [schema, keyword, at] of cases) {
      let err: unknown;
      try {
        prepareSchema(schema);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(schema)).toBeInstanceOf(UnsupportedSchemaError);
      expect((err as UnsupportedSchemaError).keyword).toBe(keyword);
      expect((err as UnsupportedSchemaError).at).toBe(at);
      expect((err as Error).message).toContain(`"${keyword}"`);
    }
  });

  it("refuses pattern syntax it cannot turn into grammar, by name", () => {
    for (const pattern of ["(?=a)b", "a\\1", "\\bword", '["]', "\\s+"])
      expect(
        () => checkConstraint({ type: "json_schema", schema: { type: "string", pattern } }),
        pattern,
      ).toThrow(/"pattern"/);
    expect(() =>
      checkConstraint({ type: "json_schema", schema: { type: "string", pattern: "^a", maxLength: 3 } }),
    ).toThrow(/"pattern"/);
  });

  it("keeps annotations out of the grammar", () => {
    expect(prepareSchema({ title: "T", description: "d", type: "number", minimum: -1.5 })).toEqual({
      type: "number",
      minimum: -1.5,
    });
  });
});
