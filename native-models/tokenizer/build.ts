import { ModelFormatError } from "../formats/errors.js";
import type { TokenizerSource } from "../formats/model-source.js";
import { tokenizerFromGguf } from "./from-gguf.js";
import { analyzeHfTokenizer } from "./from-hf.js";
import { tokenizerFromLlama2c } from "./from-llama2c.js";
import { asObject } from "./hf-json.js";
import type { BuiltTokenizer, SpecialTokens, TokenizerMeta } from "./types.js";

// Every tokenizer source becomes a Hugging Face tokenizer.json plus tokenizer_config.json, so the
// runtime has one loading path (TextTokenizer over @huggingface/tokenizers).

export const META_KEY = "exitlane";

export function buildTokenizerJson(source: TokenizerSource): BuiltTokenizer {
  switch (source.kind) {
    case "gguf": {
      const { json, meta, chatTemplate } = tokenizerFromGguf(source.metadata);
      return generated(json, meta, chatTemplate);
    }
    case "llama2c": {
      const { json, meta } = tokenizerFromLlama2c(source.pieces, source.scores);
      return generated(json, meta, undefined);
    }
    case "hf": {
      const json = asObject(source.tokenizerJson, "tokenizer.json");
      const config =
        source.tokenizerConfig == null ? {} : asObject(source.tokenizerConfig, "tokenizer_config.json");
      const { meta, chatTemplate } = analyzeHfTokenizer(json, config);
      return {
        tokenizerJson: json,
        tokenizerConfig: { ...config, [META_KEY]: meta },
        special: specialOf(meta),
        chatTemplate,
      };
    }
    case "none":
      throw new ModelFormatError(
        "bad_tokenizer",
        "This model has no tokenizer (no tokenizer metadata, tokenizer.json or tokenizer.bin)",
      );
    default:
      throw new ModelFormatError(
        "bad_tokenizer",
        `Unknown tokenizer source ${JSON.stringify((source as { kind?: unknown }).kind)}`,
      );
  }
}

function generated(json: object, meta: TokenizerMeta, chatTemplate: string | undefined): BuiltTokenizer {
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: meta.bosToken ?? null,
    eos_token: meta.eosToken ?? null,
    add_bos_token: meta.addBos,
    add_eos_token: meta.addEos,
    clean_up_tokenization_spaces: false,
    ...(chatTemplate !== undefined ? { chat_template: chatTemplate } : {}),
    [META_KEY]: meta,
  };
  return { tokenizerJson: json, tokenizerConfig, special: specialOf(meta), chatTemplate };
}

function specialOf(m: TokenizerMeta): SpecialTokens {
  return {
    bos: m.bos,
    eos: m.eos,
    unk: m.unk,
    addBos: m.addBos,
    addEos: m.addEos,
    bosToken: m.bosToken,
    eosToken: m.eosToken,
  };
}
