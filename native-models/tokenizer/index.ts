// Tokenizers and chat templates: every model source -> a Hugging Face tokenizer.json, loaded at run
// time by one class (TextTokenizer) over @huggingface/tokenizers.

export { buildTokenizerJson, META_KEY } from "./build.js";
export { TextTokenizer, type DecodeOptions, type EncodeOptions } from "./text-tokenizer.js";
export type { StreamDecoder, StreamDecoderOptions } from "./stream-decoder.js";
export { loadTokenizer, saveTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "./files.js";
export {
  ChatTemplateError,
  chatTemplateFor,
  encodeChat,
  FALLBACK_CHAT_TEMPLATE,
  renderChat,
  type ChatMessage,
  type RenderChatOptions,
} from "./chat-template.js";
export { SUPPORTED_PRE_TOKENIZERS } from "./pretokenizers.js";
export type { BuiltTokenizer, DecodeMode, SpecialTokens, TokenizerMeta } from "./types.js";
