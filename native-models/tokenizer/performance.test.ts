import { describe, expect, it } from "vitest";
import { readGgufMetadata } from "../formats/gguf.js";
import { haveShared, stories, vocabOnly } from "../test-support/shared-fixtures.js";
import { buildTokenizerJson } from "./build.js";
import { readJson } from "./testing/fixtures.js";
import { TextTokenizer } from "./text-tokenizer.js";

// Budgets from the brief: 10k tokens of English well under a second; building from a 32000-piece
// GGUF vocabulary within 1-2 s. Limits are loose (shared CI machines); the log shows the real numbers.

async function englishText(): Promise<string> {
  const { stories: list } = (await readJson(stories.reference("stories"))) as { stories: { text: string }[] };
  const { cases } = (await readJson(stories.reference("greedy"))) as { cases: { full_text: string }[] };
  return [...list.map((s) => s.text), ...cases.map((c) => c.full_text)].join("\n");
}

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};

const VOCABS = [
  { name: "Llama SentencePiece 32000", file: vocabOnly.llamaSpm },
  { name: "GPT-2 byte-level BPE 50257", file: vocabOnly.gpt2 },
];

describe.skipIf(!haveShared("models/vocab-only") || !haveShared("models/stories260K"))(
  "tokenizer performance",
  () => {
    for (const v of VOCABS) {
      it(`${v.name}: builds fast and encodes 10k tokens of English well under a second`, async () => {
        const metadata = await readGgufMetadata(v.file);
        const [built, buildMs] = time(() => buildTokenizerJson({ kind: "gguf", metadata }));
        const [tok, loadMs] = time(() => TextTokenizer.fromBuilt(built));
        const base = await englishText();
        // Distinct text (numbered paragraphs), so word caches do not flatter the numbers.
        let text = "";
        for (let i = 0; tok.encode(text).length < 10_000; i++) text += `${i}. ${base}\n`;
        const fresh = TextTokenizer.fromBuilt(built);
        const [ids, coldMs] = time(() => fresh.encode(text));
        const [, warmMs] = time(() => fresh.encode(text));
        const [decoded, decodeMs] = time(() => fresh.decode(ids));
        console.log(
          `[perf] ${v.name}: build ${buildMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms; ` +
            `encode ${ids.length} tokens (${text.length} chars) ${coldMs.toFixed(0)} ms cold, ${warmMs.toFixed(0)} ms warm; decode ${decodeMs.toFixed(0)} ms`,
        );
        expect(decoded).toBe(text);
        expect(ids.length).toBeGreaterThanOrEqual(10_000);
        expect(buildMs + loadMs).toBeLessThan(2000);
        expect(coldMs).toBeLessThan(1000);
      });
    }
  },
);
