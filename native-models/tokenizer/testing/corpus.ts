import { seededRandom } from "../../runtime/sampler.js";

// Test texts for tokenizer parity: a fixed list of hand-picked cases plus systematic and seeded random
// combinations. Deterministic, so a failure always reproduces.

const FIXED: string[] = [
  "",
  " ",
  "  ",
  "\n",
  "\t",
  "Hello world",
  " Hello world",
  "Hello world ",
  "Hello  world",
  "hello\nworld",
  "Hello, world! How are you today?",
  "The quick brown fox jumps over the lazy dog.",
  "Once upon a time, there was a little girl named Lily.",
  "I'm sure it's fine, isn't it? We'll see; they've said you'd know.",
  "DON'T SHOUT, I'LL HEAR YOU'RE RIGHT",
  "'s 't 're 've 'm 'll 'd",
  "''quoted'' \"double\" `back`",
  "café naïve résumé Ångström façade",
  "cafe\u0301 (NFD) vs café (NFC)",
  "Straße Øre Łódź Ærø İstanbul",
  "日本語のテキストです。",
  "中文文本，包括标点符号！",
  "한국어 텍스트입니다.",
  "Привет, мир! Как дела?",
  "مرحبا بالعالم",
  "שלום עולם",
  "नमस्ते दुनिया",
  "สวัสดีชาวโลก",
  "Γειά σου Κόσμε",
  "😀",
  "😀😃😄",
  "👨‍👩‍👧‍👦 family",
  "🇫🇷🇯🇵 flags",
  "👍🏽 thumbs",
  "1️⃣ keycap",
  "emoji at end 🚀",
  "🤖robot",
  "0",
  "12",
  "123",
  "1234",
  "12345678901234567890",
  "3.14159265358979",
  "1,234,567.89",
  "-42 +17 1e10 0x1F 0b1010",
  "2024-01-31 23:59:59",
  "$100 €200 £300 ¥400",
  "a1b2c3 x86_64 ipv6",
  "...!!!???",
  "!@#$%^&*()_+-=[]{}|;':\",./<>?",
  "«quotes» “curly” ‘single’ — dash – en … ellipsis",
  "∑∫∂√∞ ≤≥≠ ±×÷",
  "def add(a, b):\n    return a + b\n",
  "function f(x) {\n\treturn x * 2;\n}",
  "for (int i = 0; i < n; ++i) { sum += a[i]; }",
  '<div class="x">Hi &amp; bye</div>',
  '{"key": [1, 2.5, null, true], "s": "v"}',
  "ls -la | grep '.ts$' && echo done",
  "SELECT * FROM users WHERE id = 42;",
  "https://example.com/path?q=1&r=two#frag",
  "user@example.com",
  "    indented four",
  "\t\ttabbed twice",
  "trailing tab\t",
  "line1\r\nline2\r\n",
  "\n\n\nthree newlines before",
  "after newlines\n\n\n",
  " \n \n ",
  "a \n b",
  "x\u00a0y non-breaking",
  "x\u3000y ideographic space",
  "x\u2003y em space",
  "x\u200by zero width",
  "x\u0085y next line",
  "\ufeffbom at start",
  "x\ufeffy bom inside",
  "<s>",
  "</s>",
  "<unk>",
  "<|endoftext|>",
  "<0x41>",
  "▁ already escaped ▁▁",
  "Mixed: 日本 and English, 123 numbers, émojis 😀, and\ttabs\nnewlines.",
];

const WORDS = [
  "hello",
  "World",
  "tokenizer",
  "don't",
  "naïve",
  "日本語",
  "中文",
  "한국어",
  "Привет",
  "مرحبا",
  "नमस्ते",
  "สวัสดี",
  "Γειά",
  "😀",
  "👨‍👩‍👧",
  "🇯🇵",
  "42",
  "3.14",
  "1000000",
  "x86",
  "foo_bar",
  "camelCase",
  "SHOUT",
  "'s",
  "!!",
  "...",
  "(",
  ")",
  "{",
  "}",
  "=>",
  "#",
  "@",
  "$",
  "%",
  "&",
  "*",
  "-",
  "+",
  "=",
  "/",
  "\\",
  "|",
  "~",
  "`",
  "^",
];
const SEPARATORS = ["", " ", " ", " ", "  ", "   ", "\n", "\n\n", "\t", " \n", "\n ", ".", ", "];

/** mulberry32: a tiny seeded PRNG (the engine's sampler generator). */
const rng = seededRandom;

function systematic(): string[] {
  const out: string[] = [];
  for (const n of [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 20, 31, 32, 33, 40, 64]) {
    const sp = " ".repeat(n);
    out.push(sp, `${sp}word`, `word${sp}`, `a${sp}b`, `${sp}x${sp}y${sp}`);
  }
  for (const n of [1, 2, 3, 4, 8]) {
    out.push(
      "\t".repeat(n) + "x",
      "x" + "\n".repeat(n) + "y",
      "\n".repeat(n),
      ` ${"\n".repeat(n)} z`,
      "a" + " \t".repeat(n) + "b",
    );
  }
  let digits = "";
  for (let i = 1; i <= 30; i++) {
    digits += String(i % 10);
    out.push(digits, ` ${digits}`, `x${digits}y`);
  }
  for (const ch of "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") out.push(ch, ch.repeat(3), `a${ch}b`, ` ${ch} `);
  return out;
}

function randomMixes(count: number, seed: number): string[] {
  const next = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 2 + Math.floor(next() * 6);
    let s = next() < 0.2 ? pick(SEPARATORS) : "";
    for (let j = 0; j < n; j++) s += pick(WORDS) + (j < n - 1 ? pick(SEPARATORS) : "");
    if (next() < 0.2) s += pick(SEPARATORS);
    out.push(s);
  }
  return out;
}

/** About 700 texts; duplicates removed. */
export function tokenizerCorpus(): string[] {
  return [...new Set([...FIXED, ...systematic(), ...randomMixes(250, 12345)])];
}

/** Texts containing special-token markup, for parse-special comparisons. */
export function specialCorpus(specials: string[]): string[] {
  const out: string[] = [];
  for (const s of specials) {
    out.push(
      s,
      `${s}Hello`,
      `${s} Hello`,
      `Hello${s}`,
      `Hello ${s} world`,
      `${s}${s}`,
      `a${s}\n${s}b`,
      `  ${s}  `,
    );
  }
  if (specials.length > 1) out.push(specials.join("text"), specials.join(" "));
  return out;
}
