// Which token ids end generation. Many converters only record one EOS id while chat models stop on
// an end-of-turn token, so, like llama.cpp (llama-vocab.cpp, special_eog_ids), we also recognise
// the usual end-of-turn tokens by their text.

/** Texts llama.cpp treats as end-of-generation whatever their declared type. */
export const END_OF_GENERATION_TEXTS: ReadonlySet<string> = new Set([
  "<|eot_id|>",
  "<|im_end|>",
  "<|end|>",
  "<|return|>",
  "<|call|>",
  "<|flush|>",
  "<|calls|>",
  "<end_of_turn>",
  "<|endoftext|>",
  "</s>",
  "<|eom_id|>",
  "<EOT>",
  "_<EOT>",
  "[EOT]",
  "[EOS]",
  "<|end_of_text|>",
  "<end_of_utterance>",
  "<eos>",
  "<｜end▁of▁sentence｜>",
]);

/**
 * The end-of-generation list: explicit ids first (EOS, then EOT/EOM), then every token whose text
 * is a known end-of-turn marker. Duplicates and undefined entries are dropped.
 */
export function endOfGenerationIds(explicit: (number | undefined)[], pieces: readonly string[]): number[] {
  const out = new Set<number>();
  for (const id of explicit) if (id !== undefined) out.add(id);
  for (let id = 0; id < pieces.length; id++) if (END_OF_GENERATION_TEXTS.has(pieces[id])) out.add(id);
  return [...out];
}
