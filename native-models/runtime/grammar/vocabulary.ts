// A tokenizer's vocabulary as constrained decoding needs it: the exact bytes each token adds.
import type { TextTokenizer } from "../../tokenizer/text-tokenizer.js";
import type { GrammarVocabulary } from "./token-constraint.js";

const utf8 = new TextEncoder();

/**
 * `size` is the number of logits rows (it may exceed the tokenizer's vocabulary). Special tokens
 * are never allowed inside an answer, except the end-of-generation ones where it may end.
 */
export function grammarVocabulary(tokenizer: TextTokenizer, size: number): GrammarVocabulary {
  return {
    size,
    eos: [...tokenizer.eos].filter((id) => id < size),
    bytes(id) {
      if (id >= tokenizer.vocabSize || tokenizer.isSpecial(id)) return null;
      const exact = tokenizer.tokenBytes(id);
      if (exact) return exact;
      // Tokenizers the library decodes (no byte table of ours): a token's text alone, exact for
      // tokens that are whole characters; the others come out as U+FFFD and are simply never
      // chosen where the grammar wants something else.
      const text = tokenizer.decode([id], { skipSpecial: true });
      return text ? utf8.encode(text) : null;
    },
  };
}
