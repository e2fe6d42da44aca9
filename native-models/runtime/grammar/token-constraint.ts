// Constrained decoding: at every step only the tokens that keep the text a valid prefix of the
// grammar may be sampled. XGrammar computes each step's allowed-token bitmask (its adaptive token
// mask cache makes most of the vocabulary a table lookup) from the exact bytes every token adds to
// the text, so tokens that span a grammar boundary (`"},` or a byte-fallback piece of a character)
// are judged as the bytes they are. Every tokenizer the engine reads is handed to it the same way:
// each token's bytes in GPT-2's byte-to-character form ("byte_level"), which XGrammar decodes back
// to the very same bytes.
import type { OutputConstraint } from "../../../wire/structured.js";
import type { CompiledGrammar, GrammarCompiler, GrammarMatcher } from "@mlc-ai/web-xgrammar";
import { loadXGrammar } from "./xgrammar.js";
import { prepareSchema } from "./schema-support.js";
import { ANY_OBJECT_EBNF, schemaToEbnf } from "./json-ebnf.js";
import { Utf8Masks } from "./utf8-states.js";

/** What a decode loop needs from a constraint. */
export interface TokenConstraint {
  /** Sets the logits of the tokens the grammar forbids now to −∞ (in place). */
  mask(logits: Float32Array): Promise<void>;
  /** Advances the grammar by a token that was sampled from a masked distribution. */
  accept(id: number): void;
  /** The answer is complete (an end-of-text token was accepted): nothing more may be masked. */
  readonly ended: boolean;
  /** Frees the matcher (WebAssembly memory). */
  dispose(): void;
}

/** The vocabulary as constrained decoding sees it. */
export interface GrammarVocabulary {
  /** Rows of the logits (may exceed the tokenizer's vocabulary). */
  size: number;
  /** The bytes a token adds to the text; null for tokens never allowed (control tokens, holes). */
  bytes(id: number): Uint8Array | null;
  /** End-of-generation ids: allowed exactly where the grammar may end. */
  eos: readonly number[];
}

/** GPT-2's bytes_to_unicode: the printable stand-in character for every byte. */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out: string[] = [];
  for (const b of printable) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
})();

const CACHE_SIZE = 16;

export class GrammarSupport {
  private readonly compiled = new Map<string, CompiledGrammar>();

  private constructor(
    private readonly compiler: GrammarCompiler,
    private readonly size: number,
    /** Ids XGrammar must never allow whatever it thinks (control tokens, holes), as a bitmask. */
    private readonly allowedEver: Int32Array,
    private readonly utf8: Utf8Masks,
  ) {}

  static async create(vocab: GrammarVocabulary): Promise<GrammarSupport> {
    if (vocab.eos.length === 0)
      throw new Error("this model has no end-of-text token, so a constrained answer could not end");
    const xg = loadXGrammar();
    const encoded: string[] = [];
    const allowed = new Int32Array(Math.ceil(vocab.size / 32));
    const eos = new Set(vocab.eos);
    const table: (Uint8Array | null)[] = [];
    for (let id = 0; id < vocab.size; id++) {
      const bytes = eos.has(id) ? null : vocab.bytes(id);
      table.push(bytes && bytes.length ? bytes : null);
      // A token never allowed gets a name XGrammar takes for a special token (`<…>`).
      if (!bytes || bytes.length === 0) encoded.push(eos.has(id) ? "</s>" : `<never_${id}>`);
      else {
        let s = "";
        for (const b of bytes) s += BYTE_TO_CHAR[b];
        encoded.push(s);
      }
      // Raw control characters: JSON strings may not hold them (XGrammar's string rule lets them
      // through) and the compact layout has no whitespace, so no JSON answer contains one.
      const control = !!bytes && bytes.some((b) => b < 0x20);
      if ((bytes && bytes.length > 0 && !control) || eos.has(id)) allowed[id >> 5] |= 1 << (id & 31);
    }
    const info = await xg.TokenizerInfo.createTokenizerInfo(encoded, "byte_level", false, vocab.size, [
      ...vocab.eos,
    ]);
    const compiler = await xg.GrammarCompiler.createGrammarCompiler(info, true);
    return new GrammarSupport(compiler, vocab.size, allowed, new Utf8Masks(vocab.size, (id) => table[id]));
  }

  /** Compiles (or takes from the cache) the grammar for `c`; an unsupported schema throws UnsupportedSchemaError. */
  async compile(c: OutputConstraint): Promise<CompiledGrammar> {
    // JSON is written compact (fewer tokens) with no free whitespace (it cannot run on as blanks).
    const key = c.type === "json_object" ? ANY_OBJECT_EBNF : schemaToEbnf(prepareSchema(c.schema));
    const hit = this.compiled.get(key);
    if (hit) {
      this.compiled.delete(key);
      this.compiled.set(key, hit); // most recently used last
      return hit;
    }
    let grammar: CompiledGrammar;
    try {
      grammar = await this.compiler.compileGrammar(key);
    } catch (err) {
      // Our grammar is XGrammar's to parse; a failure here is a bug of json-ebnf.ts, said as such.
      throw new Error(
        `the answer's grammar did not compile: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    this.compiled.set(key, grammar);
    if (this.compiled.size > CACHE_SIZE) {
      const [oldest, old] = this.compiled.entries().next().value!;
      this.compiled.delete(oldest);
      old.dispose();
    }
    return grammar;
  }

  async constraint(c: OutputConstraint): Promise<TokenConstraint> {
    const grammar = await this.compile(c);
    const matcher = await loadXGrammar().GrammarMatcher.createGrammarMatcher(grammar);
    return new MatcherConstraint(matcher, this.size, this.allowedEver, this.utf8);
  }
}

class MatcherConstraint implements TokenConstraint {
  /** Where the answer's bytes are inside a character (see utf8-states.ts). */
  private utf8State = 0;

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly size: number,
    private readonly allowedEver: Int32Array,
    private readonly utf8: Utf8Masks,
  ) {}

  async mask(logits: Float32Array): Promise<void> {
    const bits = await this.matcher.getNextTokenBitmask();
    const utf8 = this.utf8.masks[this.utf8State];
    const n = Math.min(this.size, logits.length);
    let any = false;
    for (let w = 0; w * 32 < n; w++) {
      const word = bits[w] & this.allowedEver[w] & utf8[w];
      if (word === -1) {
        any = true;
        continue; // all 32 allowed
      }
      if (word !== 0) any = true;
      const end = Math.min(32, n - w * 32);
      for (let b = 0; b < end; b++) if (!((word >>> b) & 1)) logits[w * 32 + b] = -Infinity;
    }
    for (let i = n; i < logits.length; i++) logits[i] = -Infinity;
    // Cannot happen while end-of-text is allowed wherever the grammar may end; if it did, sampling
    // from all −∞ would pick an arbitrary token that breaks the answer.
    if (!any) throw new Error("the grammar allows no token here");
  }

  accept(id: number): void {
    const state = this.utf8.after(this.utf8State, id);
    if (state < 0 || !this.matcher.acceptToken(id))
      throw new Error(`token ${id} breaks the answer's grammar`);
    this.utf8State = state;
  }

  get ended(): boolean {
    return this.matcher.isTerminated();
  }

  dispose(): void {
    this.matcher.dispose();
  }
}
