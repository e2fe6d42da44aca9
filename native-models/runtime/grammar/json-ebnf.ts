// JSON Schema (the subset schema-support.ts admits) -> an EBNF grammar of the compact JSON text
// that validates against it, for XGrammar's matcher. We write the grammar ourselves rather than use
// XGrammar's own JSON-Schema converter: in 0.1.27 that one admits values outside integer ranges
// (`maximum: 120` lets 121..129 through) and outside enums of more than about ten values (`"100"`
// against ["0".."10"]); those cases were found by the random walks in token-constraint.test.ts.
// Every alternation of literals here is written as a trie (no two branches share a first
// character), the form its matcher gets right.
import { UnsupportedSchemaError } from "./schema-support.js";
import { patternToEbnf } from "./pattern-ebnf.js";

type Json = Record<string, unknown>;

/** Rules every grammar may use: any JSON value, compact. */
const BASE = String.raw`
json_value ::= json_object | json_array | json_string | json_number | "true" | "false" | "null"
json_object ::= "{" (json_string ":" json_value ("," json_string ":" json_value)*)? "}"
json_array ::= "[" (json_value ("," json_value)*)? "]"
json_string ::= "\"" json_char* "\""
json_char ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-Ce-fE-F] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))
json_number ::= json_integer ("." [0-9]+)? ([eE] [+-]? [0-9]+)?
json_integer ::= "-"? ("0" | [1-9] [0-9]*)
`;

const PLAIN_CHAR = String.raw`[^"\\\x00-\x1f]`;

export function schemaToEbnf(schema: Json): string {
  const g = new Builder(schema);
  const root = g.value(schema, "#");
  return `root ::= ${root}\n${g.rules.join("\n")}${BASE}`;
}

export const ANY_OBJECT_EBNF = `root ::= json_object\n${BASE}`;

class Builder {
  readonly rules: string[] = [];
  private readonly names = new Set<string>();
  private readonly refs = new Map<string, string>();

  constructor(private readonly root: Json) {}

  private rule(hint: string, body: string): string {
    let name = hint
      .replace(/[^A-Za-z0-9_]/g, "_")
      .replace(/^_*/, "r_")
      .slice(0, 40);
    for (let i = 1; this.names.has(name); i++) name = `${name.replace(/_\d+$/, "")}_${i}`;
    this.names.add(name);
    this.rules.push(`${name} ::= ${body}`);
    return name;
  }

  /** An expression for the JSON text of a value valid against `s`. */
  value(s: Json, at: string): string {
    if (typeof s.$ref === "string") return this.ref(s.$ref, at);
    if ("const" in s) return literals([JSON.stringify(s.const)]);
    if (Array.isArray(s.enum)) {
      if (s.enum.length === 0) throw new UnsupportedSchemaError("enum", at, "an empty enum");
      return literals(s.enum.map((v) => JSON.stringify(v)));
    }
    const alternatives = (s.anyOf ?? s.oneOf) as Json[] | undefined;
    if (alternatives) {
      const rest = Object.keys(s).filter((k) => !["anyOf", "oneOf", "$defs", "definitions"].includes(k));
      if (rest.length) throw new UnsupportedSchemaError(rest[0], at, "keywords beside anyOf/oneOf");
      const names = alternatives.map((a, i) => this.rule(`${at}_${i}`, this.value(a, `${at}/${i}`)));
      return `(${names.join(" | ")})`;
    }
    const types =
      s.type === undefined ? implied(s) : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (types.length === 0) return "json_value";
    const parts = types.map((t) => this.typed(t, s, at));
    return parts.length === 1 ? parts[0] : `(${parts.join(" | ")})`;
  }

  private typed(type: string, s: Json, at: string): string {
    switch (type) {
      case "null":
        return '"null"';
      case "boolean":
        return '("true" | "false")';
      case "string":
        return this.string(s, at);
      case "integer":
      case "number":
        return numberRule(type, s, at);
      case "array":
        return this.array(s, at);
      case "object":
        return this.object(s, at);
      default:
        throw new UnsupportedSchemaError("type", at, `type ${type}`);
    }
  }

  private string(s: Json, at: string): string {
    const min = (s.minLength as number | undefined) ?? 0;
    const max = s.maxLength as number | undefined;
    if (typeof s.pattern === "string") {
      if (s.minLength !== undefined || s.maxLength !== undefined)
        throw new UnsupportedSchemaError("pattern", at, "together with minLength/maxLength");
      return this.rule(`${at}_pattern`, `"\\"" ${patternToEbnf(s.pattern, at)} "\\""`);
    }
    if (max !== undefined && max < min) throw new UnsupportedSchemaError("maxLength", at, "below minLength");
    if (min === 0 && max === undefined) return "json_string";
    // A length-bounded string as one repeated character class, which XGrammar matches as a counted
    // run (its mask cache then decides most tokens at once; with escapes as alternatives inside the
    // run, masks cost 6x more at 32000 tokens). So such a string holds no escapes: no quote,
    // backslash or control character, which every answer that validates can do without.
    return `"\\"" ${PLAIN_CHAR}{${min},${max ?? ""}} "\\""`;
  }

  private array(s: Json, at: string): string {
    const item =
      s.items === undefined
        ? "json_value"
        : this.rule(`${at}_item`, this.value(s.items as Json, `${at}/items`));
    const min = (s.minItems as number | undefined) ?? 0;
    const max = s.maxItems as number | undefined;
    if (max !== undefined && max < min) throw new UnsupportedSchemaError("maxItems", at, "below minItems");
    if (max === 0) return '"[" "]"';
    const more = `("," ${item}){${Math.max(0, min - 1)},${max === undefined ? "" : max - 1}}`;
    const some = `${item} ${more}`;
    return this.rule(`${at}_array`, min === 0 ? `"[" (${some})? "]"` : `"[" ${some} "]"`);
  }

  /**
   * Declared properties in their order, the required ones always, the others optional. Extra
   * properties only where the schema allows them (additionalProperties true or a schema) and
   * declares none: otherwise an extra key could repeat a declared one with another value.
   */
  private object(s: Json, at: string): string {
    const props = Object.entries((s.properties as Record<string, Json> | undefined) ?? {});
    const required = new Set((s.required as string[] | undefined) ?? []);
    for (const r of required)
      if (!props.some(([k]) => k === r))
        throw new UnsupportedSchemaError("required", at, `"${r}" is required but not among the properties`);
    const extra = s.additionalProperties;
    if (extra !== undefined && extra !== false && props.length > 0)
      throw new UnsupportedSchemaError("additionalProperties", at, "other than false beside properties");
    if (props.length === 0) {
      if (extra === undefined || extra === false) return '"{" "}"';
      const v =
        extra === true
          ? "json_value"
          : this.rule(`${at}_extra`, this.value(extra as Json, `${at}/additionalProperties`));
      return this.rule(`${at}_map`, `"{" (json_string ":" ${v} ("," json_string ":" ${v})*)? "}"`);
    }
    const kv = props.map(([k, v]) =>
      this.rule(
        `${at}_${k}`,
        `${literals([JSON.stringify(k)])} ":" ${this.value(v, `${at}/properties/${k}`)}`,
      ),
    );
    // after[i]: the members from i on, once one has been written; first[i]: none written yet.
    const after: string[] = [];
    const first: string[] = [];
    after[props.length] = '""';
    first[props.length] = '""';
    for (let i = props.length - 1; i >= 0; i--) {
      const req = required.has(props[i][0]);
      const a = req ? `"," ${kv[i]} ${after[i + 1]}` : `("," ${kv[i]})? ${after[i + 1]}`;
      after[i] = i === props.length - 1 ? `(${a})` : this.rule(`${at}_after${i}`, a);
      const f = req ? `${kv[i]} ${after[i + 1]}` : `(${kv[i]} ${after[i + 1]} | ${first[i + 1]})`;
      first[i] = this.rule(`${at}_first${i}`, f);
    }
    return `"{" ${first[0]} "}"`;
  }

  private ref(ref: string, at: string): string {
    const known = this.refs.get(ref);
    if (known) return known;
    let target: unknown = this.root;
    for (const part of ref.slice(2).split("/").filter(Boolean))
      target = (target as Json | undefined)?.[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (typeof target !== "object" || target === null)
      throw new UnsupportedSchemaError("$ref", at, `${ref} does not name a definition`);
    // Named before it is written, so recursive definitions refer to themselves.
    const name = `def_${this.refs.size}`;
    this.names.add(name);
    this.refs.set(ref, name);
    this.rules.push(`${name} ::= ${this.value(target as Json, ref)}`);
    return name;
  }
}

/** Types a schema without `type` implies from its keywords (none: any value). */
function implied(s: Json): string[] {
  if ("properties" in s || "additionalProperties" in s || "required" in s) return ["object"];
  if ("items" in s || "minItems" in s || "maxItems" in s) return ["array"];
  if ("minLength" in s || "maxLength" in s || "pattern" in s) return ["string"];
  if (["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].some((k) => k in s)) return ["number"];
  return [];
}

/**
 * Integers and numbers. A bound makes the answer a whole number within it (exact ranges for
 * fractions would need a grammar per digit of the bound; whole numbers always validate).
 */
function numberRule(type: string, s: Json, at: string): string {
  let lo = -Infinity;
  let hi = Infinity;
  if (typeof s.minimum === "number") lo = Math.ceil(s.minimum);
  if (typeof s.exclusiveMinimum === "number") lo = Math.max(lo, Math.floor(s.exclusiveMinimum) + 1);
  if (typeof s.maximum === "number") hi = Math.floor(s.maximum);
  if (typeof s.exclusiveMaximum === "number") hi = Math.min(hi, Math.ceil(s.exclusiveMaximum) - 1);
  if (lo === -Infinity && hi === Infinity) return type === "integer" ? "json_integer" : "json_number";
  if (lo > hi) throw new UnsupportedSchemaError("minimum", at, "a range with no whole number in it");
  const limit = Number.MAX_SAFE_INTEGER;
  if (Math.abs(lo) > limit && lo !== -Infinity)
    throw new UnsupportedSchemaError("minimum", at, "beyond 2^53");
  if (Math.abs(hi) > limit && hi !== Infinity) throw new UnsupportedSchemaError("maximum", at, "beyond 2^53");
  const parts: string[] = [];
  // Negative values: "-" and a magnitude in [max(1, -hi), -lo].
  if (lo < 0) {
    const mags = magnitudes(Math.max(1, -hi), -lo);
    parts.push(`"-" ${mags}`);
  }
  if (hi >= 0) parts.push(magnitudes(Math.max(0, lo), hi));
  return parts.length === 1 ? parts[0] : `(${parts.join(" | ")})`;
}

/** Decimal digits (no leading zeros) of the integers in [a, b], 0 ≤ a ≤ b ≤ ∞. */
export function magnitudes(a: number, b: number): string {
  const alts: string[] = [];
  if (b === Infinity) {
    const len = String(a).length;
    alts.push(...sameLength(String(a), "9".repeat(len)));
    alts.push(`[1-9] [0-9]{${len},}`);
    return `(${alts.join(" | ")})`;
  }
  let from = a;
  while (from <= b) {
    const len = String(from).length;
    const top = Math.min(b, 10 ** len - 1);
    alts.push(...sameLength(String(from), String(top)));
    from = top + 1;
  }
  return alts.length === 1 ? alts[0] : `(${alts.join(" | ")})`;
}

/** Alternatives for the digit strings of one length between x and y (x ≤ y). */
function sameLength(x: string, y: string): string[] {
  if (x.length === 0) return ['""'];
  if (x === y) return [`"${x}"`];
  const n = x.length - 1;
  const any = n > 0 ? ` [0-9]{${n}}` : "";
  if (x[0] === y[0]) {
    const rest = sameLength(x.slice(1), y.slice(1));
    return [`"${x[0]}" ${rest.length === 1 ? rest[0] : `(${rest.join(" | ")})`}`];
  }
  const out: string[] = [];
  let low = Number(x[0]);
  let high = Number(y[0]);
  if (!/^0*$/.test(x.slice(1))) {
    const rest = sameLength(x.slice(1), "9".repeat(n));
    out.push(`"${x[0]}" ${rest.length === 1 ? rest[0] : `(${rest.join(" | ")})`}`);
    low++;
  }
  let tail: string | null = null;
  if (!/^9*$/.test(y.slice(1))) {
    const rest = sameLength("0".repeat(n), y.slice(1));
    tail = `"${y[0]}" ${rest.length === 1 ? rest[0] : `(${rest.join(" | ")})`}`;
    high--;
  }
  if (low <= high) out.push(`${low === high ? `"${low}"` : `[${low}-${high}]`}${any}`);
  if (tail) out.push(tail);
  return out;
}

/** An alternation of literal texts as a trie: no two branches start with the same character. */
export function literals(texts: string[]): string {
  interface Node {
    end: boolean;
    next: Map<string, Node>;
  }
  const root: Node = { end: false, next: new Map() };
  for (const t of new Set(texts)) {
    let n = root;
    for (const ch of t) {
      let c = n.next.get(ch);
      if (!c) n.next.set(ch, (c = { end: false, next: new Map() }));
      n = c;
    }
    n.end = true;
  }
  const emit = (n: Node): string => {
    const branches: string[] = [];
    for (const [ch, child] of n.next) {
      // Follow a chain of single children into one literal.
      let text = ch;
      let c = child;
      while (!c.end && c.next.size === 1) {
        const [[k, v]] = c.next;
        text += k;
        c = v;
      }
      const rest = c.next.size ? emit(c) : "";
      branches.push(rest ? `${quote(text)} ${rest}` : quote(text));
    }
    if (n.end) branches.push('""');
    return branches.length === 1 ? branches[0] : `(${branches.join(" | ")})`;
  };
  return emit(root);
}

function quote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
