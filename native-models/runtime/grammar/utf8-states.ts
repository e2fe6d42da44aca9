// Which tokens keep the answer's bytes valid UTF-8. XGrammar matches the text as code points but
// lets through byte sequences no UTF-8 decoder accepts (a surrogate's encoding, a lone byte-fallback
// piece followed by something that does not continue it); decoded, those become U+FFFD, which can
// break a length limit or an enum. So beside the grammar's mask, each token must continue the
// current partial character correctly. The state is what the next byte must be: anything (0), or
// a continuation byte in a range, with so many still to come.

/** [bytes still needed, lowest allowed next byte, highest]; state 0 is "between characters". */
const STATES: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [1, 0x80, 0xbf],
  [2, 0x80, 0xbf],
  [2, 0xa0, 0xbf], // after E0: no overlong forms
  [2, 0x80, 0x9f], // after ED: no surrogates
  [3, 0x80, 0xbf],
  [3, 0x90, 0xbf], // after F0: no overlong forms
  [3, 0x80, 0x8f], // after F4: nothing above U+10FFFF
];

/** The state after `byte` in `state`, or -1 where the byte breaks UTF-8. */
function next(state: number, byte: number): number {
  const [need, lo, hi] = STATES[state];
  if (need > 0) {
    if (byte < lo || byte > hi) return -1;
    return need === 1 ? 0 : need === 2 ? 1 : 2;
  }
  if (byte < 0x80) return 0;
  if (byte >= 0xc2 && byte <= 0xdf) return 1;
  if (byte === 0xe0) return 3;
  if (byte === 0xed) return 4;
  if (byte >= 0xe1 && byte <= 0xef) return 2;
  if (byte === 0xf0) return 6;
  if (byte === 0xf4) return 7;
  if (byte >= 0xf1 && byte <= 0xf3) return 5;
  return -1;
}

export function utf8After(state: number, bytes: Uint8Array): number {
  for (const b of bytes) {
    state = next(state, b);
    if (state < 0) return -1;
  }
  return state;
}

export class Utf8Masks {
  /** Per state, a bitmask of the tokens that can follow (tokens without bytes are left to the caller). */
  readonly masks: Int32Array[];

  constructor(
    size: number,
    private readonly bytesOf: (id: number) => Uint8Array | null,
  ) {
    this.masks = STATES.map((_, state) => {
      const m = new Int32Array(Math.ceil(size / 32));
      for (let id = 0; id < size; id++) {
        const bytes = bytesOf(id);
        if (!bytes || utf8After(state, bytes) >= 0) m[id >> 5] |= 1 << (id & 31);
      }
      return m;
    });
  }

  /** The state after token `id`; tokens without bytes (end of text) leave it as it is. */
  after(state: number, id: number): number {
    const bytes = this.bytesOf(id);
    return bytes ? utf8After(state, bytes) : state;
  }
}
