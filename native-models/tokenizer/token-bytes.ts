import { SPIECE_SPACE } from "./spm.js";
import type { DecodeMode } from "./types.js";

// The exact bytes each token contributes to decoded text. Decoding concatenates bytes and only then
// turns them into UTF-8, so a character split over several tokens (byte fallback, byte-level BPE)
// comes out whole, and streaming and full decoding agree by construction.

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** GPT-2's bytes_to_unicode, inverted: printable stand-in character -> byte. */
const UNICODE_TO_BYTE: ReadonlyMap<string, number> = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  for (const b of printable) map.set(String.fromCharCode(b), b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) map.set(String.fromCharCode(256 + n++), b);
  return map;
})();

export class TokenBytes {
  private readonly cache: (Uint8Array | undefined)[] = [];

  /**
   * @param pieces id -> piece text (holes for unused ids)
   * @param raw ids whose text is used verbatim (added tokens: user-defined and special)
   */
  constructor(
    private readonly mode: Exclude<DecodeMode, "hf">,
    private readonly pieces: readonly (string | undefined)[],
    private readonly raw: ReadonlySet<number>,
  ) {}

  /** Bytes of one token; empty for ids the vocabulary does not have. */
  of(id: number): Uint8Array {
    let b = this.cache[id];
    if (b === undefined) {
      b = this.compute(id);
      if (Number.isInteger(id) && id >= 0 && id < this.pieces.length) this.cache[id] = b;
    }
    return b;
  }

  private compute(id: number): Uint8Array {
    const piece = this.pieces[id];
    if (piece === undefined) return EMPTY;
    if (this.raw.has(id)) return utf8.encode(piece);
    if (this.mode === "spm") {
      const m = BYTE_PIECE.exec(piece);
      if (m) return Uint8Array.of(parseInt(m[1], 16));
      return utf8.encode(piece.replaceAll(SPIECE_SPACE, " "));
    }
    const out: number[] = [];
    for (const ch of piece) {
      const b = UNICODE_TO_BYTE.get(ch);
      if (b !== undefined) out.push(b);
      else out.push(...utf8.encode(ch)); // not a byte-level character: keep it as text
    }
    return Uint8Array.from(out);
  }
}
