import type { TokenBytes } from "./token-bytes.js";

// Incremental detokenization. Tokens are turned into bytes and fed to a streaming UTF-8 decoder, so a
// character split across tokens (an emoji as four <0xNN> byte-fallback tokens, or split byte-level
// pieces) is emitted once it is complete, never as U+FFFD. The concatenation of every push() and the
// final flush() equals TextTokenizer.decode() of the same ids.

export interface StreamDecoderOptions {
  /** Leave out special tokens. Default true. */
  skipSpecial?: boolean;
  /** Keep SentencePiece's leading space (the ids continue earlier text). Default false. */
  keepLeadingSpace?: boolean;
}

export interface StreamDecoder {
  /** Text that became complete with this id (often "", e.g. inside a multi-byte character). */
  push(id: number): string;
  /** Whatever is left at the end: an incomplete character comes out as U+FFFD, as in decode(). */
  flush(): string;
}

export interface StreamSource {
  /** Undefined when decoding has to go through the library's decoder. */
  bytes: TokenBytes | undefined;
  skip: (id: number) => boolean;
  hfDecode: (ids: number[], skipSpecial: boolean) => string;
  stripLeadingSpace: boolean;
}

export function createStreamDecoder(src: StreamSource, opts: StreamDecoderOptions): StreamDecoder {
  const skipSpecial = opts.skipSpecial ?? true;
  if (!src.bytes) return new ReDecodingStream(src, skipSpecial);
  return new ByteStream(
    src.bytes,
    skipSpecial ? src.skip : () => false,
    src.stripLeadingSpace && !opts.keepLeadingSpace,
  );
}

class ByteStream implements StreamDecoder {
  // ignoreBOM: a text that starts with U+FEFF must keep it.
  private readonly utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  private started = false;

  constructor(
    private readonly bytes: TokenBytes,
    private readonly skip: (id: number) => boolean,
    private strip: boolean,
  ) {}

  push(id: number): string {
    if (this.skip(id)) return "";
    let b = this.bytes.of(id);
    if (b.length === 0) return "";
    // SentencePiece's dummy prefix: only the very first byte of the text, as HF's Strip decoder does.
    if (!this.started && this.strip && b[0] === 0x20) b = b.subarray(1);
    this.started = true;
    return this.utf8.decode(b, { stream: true });
  }

  flush(): string {
    return this.utf8.decode();
  }
}

/** Fallback for decoders we do not model: decode everything so far and emit what is new and stable. */
class ReDecodingStream implements StreamDecoder {
  private readonly ids: number[] = [];
  private emitted = "";

  constructor(
    private readonly src: StreamSource,
    private readonly skipSpecial: boolean,
  ) {}

  push(id: number): string {
    this.ids.push(id);
    let text = this.src.hfDecode(this.ids, this.skipSpecial);
    // A trailing U+FFFD may be a character still being completed by the next token.
    while (text.endsWith("\uFFFD")) text = text.slice(0, -1);
    return this.advance(text);
  }

  flush(): string {
    return this.advance(this.src.hfDecode(this.ids, this.skipSpecial));
  }

  private advance(text: string): string {
    if (!text.startsWith(this.emitted)) return ""; // the decoder rewrote earlier text; keep what was shown
    const fresh = text.slice(this.emitted.length);
    this.emitted = text;
    return fresh;
  }
}
