import { ModelFormatError } from "../formats/errors.js";
import { buildSpmTokenizer, SPIECE_SPACE } from "./spm.js";
import { TokenType, type TokenizerJson, type TokenizerMeta } from "./types.js";

// llama.2c tokenizer.bin (pieces + scores, as the reader extracts them) -> the same SentencePiece
// tokenizer.json a GGUF `llama` vocabulary gives. llama2.c's export wrote U+2581 as a plain space and
// BOS/EOS as "\n<s>\n" / "\n</s>\n"; its run.c uses <unk>=0, BOS=1, EOS=2 and adds a dummy prefix space.

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

export function tokenizerFromLlama2c(
  pieces: readonly string[],
  scores: readonly number[],
): { json: TokenizerJson; meta: TokenizerMeta } {
  if (pieces.length === 0) throw new ModelFormatError("bad_tokenizer", "llama2.c tokenizer has no pieces");
  if (scores.length !== pieces.length) {
    throw new ModelFormatError(
      "bad_tokenizer",
      `llama2.c tokenizer has ${pieces.length} pieces but ${scores.length} scores`,
    );
  }
  const tokens = pieces.map((p) =>
    p === "\n<s>\n" ? "<s>" : p === "\n</s>\n" ? "</s>" : p.replaceAll(" ", SPIECE_SPACE),
  );
  const types = tokens.map((t) =>
    t === "<unk>"
      ? TokenType.unknown
      : t === "<s>" || t === "</s>"
        ? TokenType.control
        : BYTE_PIECE.test(t)
          ? TokenType.byte
          : TokenType.normal,
  );
  const find = (text: string, fallback: number) => {
    const i = tokens.indexOf(text);
    return i >= 0 ? i : fallback < tokens.length ? fallback : undefined;
  };
  return buildSpmTokenizer(
    {
      tokens,
      scores,
      types,
      addSpacePrefix: true,
      bos: find("<s>", 1),
      eos: find("</s>", 2),
      unk: find("<unk>", 0),
      addBos: true,
      addEos: false,
    },
    "llama2c",
  );
}
