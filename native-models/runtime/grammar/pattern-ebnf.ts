// A JSON Schema `pattern` (ECMAScript regex syntax) -> EBNF for the characters of the JSON string
// that holds the match. Supported: literals and escaped literals, `.`, classes `[a-z0-9_]` and
// negated ones, \d \w, groups `(…)` `(?:…)`, `|`, and the quantifiers * + ? {n} {n,} {n,m}. A
// pattern is unanchored unless it starts with ^ / ends with $ (as JSON Schema says). Anything else
// (lookaround, backreferences, \b, \s, a quote or backslash inside a class) is refused by name.
import { UnsupportedSchemaError } from "./schema-support.js";

/** One character of a JSON string that is not a quote, backslash or control character. */
const PLAIN = String.raw`[^"\\\x00-\x1f]`;
/** `.`: any character but line breaks, raw or as \" or \\. */
const DOT = String.raw`(${PLAIN} | "\\\"" | "\\\\")`;

export function patternToEbnf(pattern: string, at: string): string {
  const p = new Parser(pattern, at);
  let start = 0;
  let end = pattern.length;
  const anchoredStart = pattern.startsWith("^");
  if (anchoredStart) start = 1;
  const anchoredEnd = pattern.endsWith("$") && !pattern.endsWith("\\$");
  if (anchoredEnd) end--;
  p.pos = start;
  p.end = end;
  const body = p.alternation();
  if (p.pos !== end) p.fail(`unexpected "${pattern[p.pos]}"`);
  const any = `json_char*`;
  return [anchoredStart ? "" : any, `(${body})`, anchoredEnd ? "" : any].filter(Boolean).join(" ");
}

class Parser {
  pos = 0;
  end = 0;
  constructor(
    private readonly src: string,
    private readonly at: string,
  ) {}

  fail(why: string): never {
    throw new UnsupportedSchemaError("pattern", this.at, `${why} in /${this.src}/`);
  }

  alternation(): string {
    const alts = [this.sequence()];
    while (this.pos < this.end && this.src[this.pos] === "|") {
      this.pos++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0] : alts.map((a) => `(${a})`).join(" | ");
  }

  private sequence(): string {
    const items: string[] = [];
    while (this.pos < this.end && this.src[this.pos] !== "|" && this.src[this.pos] !== ")") {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return items.length ? items.join(" ") : '""';
  }

  private quantified(atom: string): string {
    const c = this.src[this.pos];
    let q = "";
    if (c === "*" || c === "+" || c === "?") {
      q = c;
      this.pos++;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.end));
      if (!m) this.fail("a malformed {n,m}");
      q = m[2] === undefined ? `{${m[1]}}` : `{${m[1]},${m[3]}}`;
      this.pos += m[0].length;
    }
    if (q && this.src[this.pos] === "?") this.pos++; // lazy: the same set of matches
    if (q && /[*+?{]/.test(this.src[this.pos] ?? "")) this.fail("a doubled quantifier");
    return q ? `(${atom})${q}` : atom;
  }

  private atom(): string {
    const c = this.src[this.pos++];
    switch (c) {
      case "(": {
        if (this.src.startsWith("?:", this.pos)) this.pos += 2;
        else if (this.src[this.pos] === "?") this.fail("lookaround or named groups");
        const inner = this.alternation();
        if (this.src[this.pos] !== ")") this.fail("an unclosed group");
        this.pos++;
        return `(${inner})`;
      }
      case ".":
        return DOT;
      case "[":
        return this.charClass();
      case "\\":
        return this.escape();
      case "^":
      case "$":
        return this.fail(`an anchor inside the pattern`);
      case "*":
      case "+":
      case "?":
      case "{":
        return this.fail(`a quantifier with nothing before it`);
      default:
        return literal(c);
    }
  }

  private escape(): string {
    const c = this.src[this.pos++];
    if (c === undefined) this.fail("a trailing backslash");
    if (c === "d") return "[0-9]";
    if (c === "w") return "[A-Za-z0-9_]";
    if (/[.^$|?*+()[\]{}\\/-]/.test(c)) return literal(c);
    return this.fail(`the escape \\${c}`);
  }

  private charClass(): string {
    let negated = false;
    if (this.src[this.pos] === "^") {
      negated = true;
      this.pos++;
    }
    let body = "";
    let first = true;
    while (this.pos < this.end && (this.src[this.pos] !== "]" || first)) {
      first = false;
      const c = this.src[this.pos++];
      if (c === "\\") {
        const e = this.src[this.pos++];
        if (e === "d") {
          body += "0-9";
          continue;
        }
        if (e === "w") {
          body += "A-Za-z0-9_";
          continue;
        }
        if (!/[.^$|?*+()[\]{}/-]/.test(e ?? "")) this.fail(`the escape \\${e} in a class`);
        body += `\\${e}`;
        continue;
      }
      if (c === '"' || c === "\\" || c.charCodeAt(0) < 0x20)
        this.fail("a quote, backslash or control character in a class");
      body += c === "]" || c === "^" || c === "[" ? `\\${c}` : c;
    }
    if (this.src[this.pos] !== "]") this.fail("an unclosed class");
    this.pos++;
    // The class never admits a quote, a backslash or a control character, which would need escaping.
    return negated ? `[^${body}"\\\\\\x00-\\x1f]` : `[${body}]`;
  }
}

function literal(c: string): string {
  if (c.charCodeAt(0) < 0x20) throw new UnsupportedSchemaError("pattern", "#", "a control character");
  if (c === '"') return String.raw`"\\\""`;
  if (c === "\\") return String.raw`"\\\\"`;
  return `"${c}"`;
}
