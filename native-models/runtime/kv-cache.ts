// Per-layer KV buffers, preallocated at the context length and shared with onnxruntime: the same
// buffer is fed as past_key and fetched as present_key, so GroupQueryAttention appends in place.
// Where only the native kernels run the layers, the buffers hold IEEE halves, as llama.cpp's
// default cache does: half the memory, and half the bytes every decode step reads from it.
//
// A layer's cache may hold fewer entries than the sequence has tokens: with early exit in
// "masked" mode, a token that exited before layer l never reaches l's cache (SpecEE's handling).
// Each slot remembers the true position of its token, so truncation stays exact.
import type { KvBuffer } from "../kernels/index.js";

export class ContextFullError extends Error {
  override readonly name = "ContextFullError";
}

interface LayerCache {
  keyData: KvBuffer;
  valueData: KvBuffer;
  length: number;
  positions: Int32Array;
}

export class KvCache {
  private readonly caches: LayerCache[];

  constructor(
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
    readonly maxPositions: number,
    readonly half = false,
  ) {
    const Values = half ? Uint16Array : Float32Array;
    this.caches = Array.from({ length: layers }, () => {
      const keyData = new Values(kvHeads * maxPositions * headDim);
      const valueData = new Values(kvHeads * maxPositions * headDim);
      return {
        keyData,
        valueData,
        length: 0,
        positions: new Int32Array(maxPositions),
      };
    });
  }

  length(layer: number): number {
    return this.caches[layer].length;
  }

  /** Claims slots for `positions` in `layer`; returns the buffers and the total length after the write. */
  reserve(layer: number, positions: readonly number[]) {
    const c = this.caches[layer];
    if (c.length + positions.length > this.maxPositions) {
      throw new ContextFullError(
        `context full: ${c.length} + ${positions.length} tokens exceed ${this.maxPositions}`,
      );
    }
    c.positions.set(positions, c.length);
    c.length += positions.length;
    return { keyData: c.keyData, valueData: c.valueData, total: c.length };
  }

  /** Forgets every entry whose position is ≥ `position` (to reuse a common prefix). */
  truncate(position: number): void {
    for (const c of this.caches) {
      let lo = 0;
      let hi = c.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (c.positions[mid] < position) lo = mid + 1;
        else hi = mid;
      }
      c.length = lo;
    }
  }

  clear(): void {
    this.truncate(0);
  }
}
